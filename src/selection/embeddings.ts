/**
 * The embedding model behind the hybrid ranking, built from runtime.yaml `selector.embeddings` through
 * LangChain's Embeddings classes: `openai` (`OpenAIEmbeddings`, any OpenAI-compatible `/v1/embeddings`
 * through `baseUrl`) or `ollama` (`OllamaEmbeddings`, Ollama's `/api/embed`). Its key is read from the
 * variable `apiKeyEnv` names; when a key is needed but absent there is no embedder and ranking stays
 * lexical, with the reason kept for one start-up warning. Error texts are scrubbed of the key.
 *
 * Like the chat providers (providers.ts), the package is imported only when `selector.embeddings` names
 * it: each costs a process 0.2–0.3 s and 30–45 MB to load, which a gateway without embeddings would pay
 * for nothing.
 */
import { createHash } from 'node:crypto';
import type { EmbeddingsConfig } from '../config/schema.js';

/** Default `selector.embeddings.timeoutMs` for an injected embedder without configuration. */
export const DEFAULT_EMBEDDINGS_TIMEOUT_MS = 5_000;

/** A batch of tool texts may take this many times `timeoutMs` (a request's text is one short line). */
export const BATCH_TIMEOUT_FACTOR = 6;

/** Sent to OpenAI-compatible servers that need no key (the client insists on one). */
const NO_KEY = 'not-needed';

/**
 * What the hybrid ranking needs from an embedding model: LangChain's `Embeddings` has this shape, and so
 * can a test double. Neither takes a signal: a late call is raced against its deadline (vectors.ts), and
 * the OpenAI client's own timeout closes it.
 */
export interface Embedder {
  embedDocuments(texts: string[]): Promise<number[][]>;
  embedQuery(text: string): Promise<number[]>;
}

/** What ranking runs on: an embedder, or the reason there is none. */
export type EmbeddingsState =
  | { kind: 'off'; reason: string; provider?: EmbeddingsConfig['provider']; model?: string }
  | { kind: 'on'; provider: EmbeddingsConfig['provider'] | 'injected'; model: string; baseUrl?: string; timeoutMs: number };

/** A resolved embedding model. */
export interface EmbeddingModel {
  state: EmbeddingsState;
  /** Present when `state.kind` is `on`. */
  embedder?: Embedder;
  /** `provider:model`, as logs name it. */
  label?: string;
  /**
   * Identifies the vector space: provider, model and endpoint. Vectors of one space mean nothing in
   * another, so the vector cache is kept per space (vectorFile.ts).
   */
  space?: string;
  timeoutMs: number;
  /** Removes the API key from a text (errors of providers may echo it). */
  scrub(text: string): string;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Resolves `selector.embeddings` into an embedder. An injected `embedder` (tests, library users) wins
 * over the provider packages and needs no key.
 */
export async function resolveEmbeddingModel({
  embeddings,
  env = process.env,
  embedder,
}: {
  embeddings: EmbeddingsConfig | undefined;
  env?: Env;
  embedder?: Embedder;
}): Promise<EmbeddingModel> {
  const timeoutMs = embeddings?.timeoutMs ?? DEFAULT_EMBEDDINGS_TIMEOUT_MS;
  const plain = (text: string) => text;
  if (embedder) {
    const model = embeddings?.model ?? 'injected';
    const provider = embeddings?.provider ?? 'injected';
    return {
      state: { kind: 'on', provider, model, timeoutMs },
      embedder,
      label: `${provider}:${model}`,
      space: spaceOf(provider, model, embeddings?.baseUrl),
      timeoutMs,
      scrub: plain,
    };
  }
  if (!embeddings) return { state: { kind: 'off', reason: 'no selector.embeddings in runtime.yaml' }, timeoutMs, scrub: plain };
  // OpenAI itself needs a key; a server at another baseUrl usually does not.
  const keyEnv =
    embeddings.apiKeyEnv ?? (embeddings.provider === 'openai' && embeddings.baseUrl === undefined ? 'OPENAI_API_KEY' : undefined);
  const key = keyEnv !== undefined ? env[keyEnv]?.trim() || undefined : undefined;
  if (keyEnv !== undefined && key === undefined) {
    return {
      state: {
        kind: 'off',
        reason: `environment variable ${keyEnv} (selector.embeddings.apiKeyEnv) is not set`,
        provider: embeddings.provider,
        model: embeddings.model,
      },
      timeoutMs,
      scrub: plain,
    };
  }
  return {
    state: {
      kind: 'on',
      provider: embeddings.provider,
      model: embeddings.model,
      ...(embeddings.baseUrl !== undefined ? { baseUrl: embeddings.baseUrl } : {}),
      timeoutMs,
    },
    embedder: await createEmbedder(embeddings, key),
    label: `${embeddings.provider}:${embeddings.model}`,
    space: spaceOf(embeddings.provider, embeddings.model, embeddings.baseUrl),
    timeoutMs,
    scrub: (text) => (key ? text.split(key).join('[redacted]') : text),
  };
}

/** 16 hex chars naming a vector space (provider, model, endpoint). */
export function spaceOf(provider: string, model: string, baseUrl: string | undefined): string {
  return createHash('sha256')
    .update(JSON.stringify([provider, model, baseUrl ?? '']))
    .digest('hex')
    .slice(0, 16);
}

/**
 * One provider's LangChain Embeddings. No retries: a failed call leaves the ranking lexical at once (the
 * caller retries later, see vectors.ts), and a retry could not finish inside `timeoutMs` anyway.
 */
async function createEmbedder(config: EmbeddingsConfig, key: string | undefined): Promise<Embedder> {
  switch (config.provider) {
    case 'openai': {
      const { OpenAIEmbeddings } = await import('@langchain/openai');
      return new OpenAIEmbeddings({
        model: config.model,
        apiKey: key ?? NO_KEY,
        maxRetries: 0,
        // The client's own timeout must let a batch of tools finish; a request's deadline is enforced
        // by the race in vectors.ts.
        timeout: config.timeoutMs * BATCH_TIMEOUT_FACTOR,
        // Plain float arrays: every OpenAI-compatible server speaks them; not all speak base64.
        encodingFormat: 'float',
        // Tool texts are batched here already (vectors.ts); one request per batch.
        batchSize: 2_048,
        ...(config.baseUrl !== undefined ? { configuration: { baseURL: config.baseUrl } } : {}),
      });
    }
    case 'ollama': {
      const { OllamaEmbeddings } = await import('@langchain/ollama');
      return new OllamaEmbeddings({
        model: config.model,
        maxRetries: 0,
        ...(config.baseUrl !== undefined ? { baseUrl: config.baseUrl } : {}),
        ...(key !== undefined ? { headers: { Authorization: `Bearer ${key}` } } : {}),
      });
    }
  }
}
