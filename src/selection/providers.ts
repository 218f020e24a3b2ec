/**
 * The chat model behind LLM selection, built from runtime.yaml `selector.llm` through LangChain's
 * provider packages. Its key is read from the variable `apiKeyEnv` names; when a key is needed but
 * absent, there is no model and selection stays lexical, with the reason kept for one start-up warning
 * and for `automcp check`. The key itself is never logged: every error text is scrubbed of it.
 *
 * Only the provider `selector.llm` names is loaded, and only then: each LangChain provider package costs
 * a process 0.2–0.3 s and 30–45 MB to load, and every MCP client starts its own gateway.
 */
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { LlmConfig } from '../config/schema.js';

/** Default `selector.llm.timeoutMs` for an injected model without configuration. */
export const DEFAULT_LLM_TIMEOUT_MS = 10_000;

/** The key variable a provider reads when `apiKeyEnv` is not given and no `baseUrl` points elsewhere. */
const DEFAULT_KEY_ENV: Record<LlmConfig['provider'], string | undefined> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  ollama: undefined,
};

/** Sent to OpenAI-compatible or Anthropic-compatible servers that need no key (their clients insist on one). */
const NO_KEY = 'not-needed';

/** What the selector runs on: a model, or the reason it runs lexically. */
export type SelectorState =
  | { kind: 'lexical'; reason: string; provider?: LlmConfig['provider']; model?: string }
  | { kind: 'llm'; provider: LlmConfig['provider'] | 'injected'; model: string; baseUrl?: string; timeoutMs: number };

/** A resolved selector model: the state, and when there is one, the model with its settings. */
export interface SelectorModel {
  state: SelectorState;
  /** Present when `state.kind` is `llm`. */
  chat?: BaseChatModel;
  /** `provider:model`, as traces name it. */
  label?: string;
  timeoutMs: number;
  /** Removes the API key from a text (error messages of providers may echo it). */
  scrub(text: string): string;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Resolves `selector.llm` into a chat model. An injected `chatModel` (tests, library users) wins over
 * the provider packages and needs no key.
 */
export async function resolveSelectorModel({
  llm,
  env = process.env,
  chatModel,
}: {
  llm: LlmConfig | undefined;
  env?: Env;
  chatModel?: BaseChatModel;
}): Promise<SelectorModel> {
  const timeoutMs = llm?.timeoutMs ?? DEFAULT_LLM_TIMEOUT_MS;
  if (chatModel) {
    const model = llm?.model ?? chatModel.getName();
    const label = `${llm?.provider ?? 'injected'}:${model}`;
    return {
      state: { kind: 'llm', provider: llm?.provider ?? 'injected', model, timeoutMs },
      chat: chatModel,
      label,
      timeoutMs,
      scrub: (text) => text,
    };
  }
  if (!llm) return { state: { kind: 'lexical', reason: 'no selector.llm in runtime.yaml' }, timeoutMs, scrub: (text) => text };
  const keyEnv = llm.apiKeyEnv ?? (llm.baseUrl === undefined ? DEFAULT_KEY_ENV[llm.provider] : undefined);
  const key = keyEnv !== undefined ? env[keyEnv]?.trim() || undefined : undefined;
  if (keyEnv !== undefined && key === undefined) {
    return {
      state: {
        kind: 'lexical',
        reason: `environment variable ${keyEnv} (selector.llm.apiKeyEnv) is not set`,
        provider: llm.provider,
        model: llm.model,
      },
      timeoutMs,
      scrub: (text) => text,
    };
  }
  const scrub = (text: string) => (key ? text.split(key).join('[redacted]') : text);
  return {
    state: {
      kind: 'llm',
      provider: llm.provider,
      model: llm.model,
      ...(llm.baseUrl !== undefined ? { baseUrl: llm.baseUrl } : {}),
      timeoutMs,
    },
    chat: await createChatModel(llm, key),
    label: `${llm.provider}:${llm.model}`,
    timeoutMs,
    scrub,
  };
}

/**
 * One provider's LangChain chat model. No retries: a failed call falls back to the lexical ranking
 * at once, and a retry could not finish inside `timeoutMs` anyway. Each call also carries an abort
 * signal (see llm.ts), so the client-side timeout here is only a second line.
 */
async function createChatModel(llm: LlmConfig, key: string | undefined): Promise<BaseChatModel> {
  const temperature = llm.temperature !== undefined ? { temperature: llm.temperature } : {};
  switch (llm.provider) {
    case 'openai': {
      const { ChatOpenAI } = await import('@langchain/openai');
      return new ChatOpenAI({
        model: llm.model,
        apiKey: key ?? NO_KEY,
        maxRetries: 0,
        timeout: llm.timeoutMs,
        // OpenAI-compatible servers (vLLM, LM Studio, Ollama's /v1) speak chat completions, not the Responses API.
        useResponsesApi: false,
        ...(llm.baseUrl !== undefined ? { configuration: { baseURL: llm.baseUrl } } : {}),
        ...temperature,
      });
    }
    case 'anthropic': {
      const { ChatAnthropic } = await import('@langchain/anthropic');
      return new ChatAnthropic({
        model: llm.model,
        apiKey: key ?? NO_KEY,
        maxRetries: 0,
        // The answer is a short list; Anthropic requires a bound.
        maxTokens: 2_048,
        clientOptions: { timeout: llm.timeoutMs },
        ...(llm.baseUrl !== undefined ? { anthropicApiUrl: llm.baseUrl } : {}),
        ...temperature,
      });
    }
    case 'ollama': {
      const { ChatOllama } = await import('@langchain/ollama');
      return new ChatOllama({
        model: llm.model,
        ...(llm.baseUrl !== undefined ? { baseUrl: llm.baseUrl } : {}),
        ...(key !== undefined ? { headers: { Authorization: `Bearer ${key}` } } : {}),
        ...temperature,
      });
    }
  }
}
