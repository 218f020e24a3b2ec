/**
 * The LLM node of the selection graph (the rerank slot): shows the chat model the task, the caller's
 * profile and the top `selector.candidates` lexical candidates, and takes back an ordered list of names
 * through structured output. It is bounded and never worse than lexical:
 *
 * - names outside the candidate set are dropped, so the model can neither invent tools nor reach past
 *   the caller's view;
 * - an empty or malformed answer, an exception, or no answer within `timeoutMs` gives mode `fallback`
 *   with the lexical ranking — on time, because the call is aborted and raced against the deadline;
 * - successful choices are cached per (profile, task, view etag, limit).
 */
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { BaseMessage } from '@langchain/core/messages';
import type { Runnable } from '@langchain/core/runnables';
import type { z } from 'zod';
import type { Logger } from '../logging/logger.js';
import type { CatalogTool } from '../catalog/types.js';
import { SelectionCache, type SelectionCacheKey } from './cache.js';
import type { LlmTrace, RerankNode, RerankOptions, SelectionStateType, SelectionStateUpdate } from './graph.js';
import {
  buildSelectionPrompt,
  CHOICE_NAME,
  choiceSchema,
  clip,
  NEEDS_NAME,
  needsSchema,
  REASON_CHARS,
  type PromptMessage,
} from './prompts.js';
import type { SelectorModel } from './providers.js';
import { createPreRetrieval } from './serverFirst.js';
import { ServerSummaries } from './serverSummaries.js';

/** The parts of a resolved selector model the node needs. */
export type ChatSelector = Required<Pick<SelectorModel, 'chat' | 'label'>> &
  Pick<SelectorModel, 'timeoutMs' | 'scrub'> & {
    /** Sees the messages of every model call (benchmarks count prompt tokens and calls with it). */
    onCall?: (messages: PromptMessage[]) => void;
    /** Compact candidate lines (prompts.ts `compactLine`). */
    compact?: boolean;
  };

/** What one model call gave: the parsed answer and the provider's token usage, or an error. */
export interface ModelAnswer {
  parsed?: unknown;
  usage?: LlmTrace['usage'];
  error?: string;
}

/**
 * What the gateway wires from a resolved selector model: the rerank node with its cache (when there is
 * a model) and the probe of `automcp check --probe` (which, without a model, says why there is none).
 */
export function createLlmSelection({
  model,
  logger,
  decompose = false,
  compact = false,
  serverFirst = false,
  rewrite = false,
  describeServer = () => '',
}: {
  model: SelectorModel;
  logger: Logger;
  /** runtime.yaml `selector.decompose`: state the request's needs first (decompose.ts). */
  decompose?: boolean | 'always';
  /** runtime.yaml `selector.compact`: compact candidate lines. */
  compact?: boolean;
  /** runtime.yaml `selector.serverFirst`: pick servers before retrieval (serverFirst.ts). */
  serverFirst?: boolean | 'lexical';
  /** runtime.yaml `selector.rewrite`: restate the request before retrieval (rewrite.ts). */
  rewrite?: boolean;
  /** A server's runtime.yaml `description` ('' when none): its line for the server-first stage. */
  describeServer?: (server: string) => string;
}): {
  rerank?: RerankNode;
  decompose?: RerankNode;
  probe(): Promise<ProbeResult>;
} {
  const { chat, label } = model;
  if (!chat || !label) {
    const reason = model.state.kind === 'lexical' ? model.state.reason : 'none configured';
    return { probe: async () => ({ ok: false, latencyMs: 0, error: `no chat model: ${reason}` }) };
  }
  const selector: ChatSelector = { chat, label, timeoutMs: model.timeoutMs, scrub: model.scrub, ...(compact ? { compact } : {}) };
  const cache = new SelectionCache();
  const pre = createPreRetrieval({
    model: selector,
    logger,
    decompose,
    serverFirst,
    rewrite,
    summaries: new ServerSummaries({ describe: describeServer }),
    cache,
  });
  return {
    rerank: createLlmRerank({ model: selector, logger, cache }),
    ...(pre ? { decompose: pre } : {}),
    probe: () => probeSelectorModel(selector),
  };
}

/** Builds the LLM rerank node. */
export function createLlmRerank({
  model,
  logger,
  cache,
}: {
  model: ChatSelector;
  logger: Logger;
  cache?: SelectionCache;
}): RerankNode {
  return async (state: SelectionStateType, options: RerankOptions = {}): Promise<SelectionStateUpdate> => {
    const candidates = state.candidates.slice(0, state.candidateCount).map((entry) => entry.tool);
    // Nothing shares a word with the task: there is nothing to choose from, and no reason to pay for a call.
    if (candidates.length === 0) return {};
    const key: SelectionCacheKey = { profile: state.profile, query: state.query, etag: state.view.etag, limit: state.limit };
    const hit = cache?.get(key);
    if (hit) {
      const chosen = hit.chosen.map((name) => ({ name, reason: hit.reasons[name] ?? '' }));
      const llm: LlmTrace = {
        model: model.label,
        candidates: candidates.length,
        chosen,
        dropped: [],
        cached: true,
        latencyMs: 0,
      };
      return { chosen: [...hit.chosen], mode: 'llm', llm };
    }
    const needs = state.needs && state.needs.length > 1 ? state.needs : undefined;
    const messages = buildSelectionPrompt({
      query: state.query,
      profile: state.profile,
      candidates,
      limit: state.limit,
      ...(needs && state.serves ? { needs, serves: state.serves.slice(0, candidates.length) } : {}),
      ...(model.compact ? { compact: true } : {}),
    });
    const started = performance.now();
    // A decomposition before this call spent part of the one deadline that covers the whole model path.
    const timeoutMs = state.deadlineAt !== undefined ? Math.max(1, state.deadlineAt - Date.now()) : model.timeoutMs;
    const answer = await askModel({ model, messages, timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
    const latencyMs = Math.round(performance.now() - started);
    const read = answer.error === undefined ? readChoice(answer.parsed, candidates) : undefined;
    const error = answer.error ?? read?.error;
    const llm: LlmTrace = {
      model: model.label,
      candidates: candidates.length,
      chosen: read?.chosen ?? [],
      dropped: read?.dropped ?? [],
      cached: false,
      latencyMs,
      ...(needs ? { needs: [...needs] } : {}),
      ...(state.servers ? { servers: [...state.servers] } : {}),
      ...(answer.usage ? { usage: answer.usage } : {}),
      ...(error !== undefined ? { error } : {}),
    };
    if (error !== undefined || !read) {
      logger.warn({ model: model.label, error, ms: latencyMs }, 'selector.llm gave no usable answer; using the lexical ranking');
      return { mode: 'fallback', llm };
    }
    const names = read.chosen.map((entry) => entry.name);
    cache?.set(key, {
      chosen: names,
      reasons: Object.fromEntries(read.chosen.map((entry) => [entry.name, entry.reason])),
      ...(state.needs ? { needs: [...state.needs] } : {}),
      ...(state.servers ? { servers: [...state.servers] } : {}),
    });
    return { chosen: names, mode: 'llm', llm };
  };
}

/** What {@link probeSelectorModel} reports. */
export interface ProbeResult {
  ok: boolean;
  latencyMs: number;
  usage?: LlmTrace['usage'];
  /** The tools the model chose for the probe task. */
  chosen?: string[];
  error?: string;
}

/**
 * Sends one small selection request — the real prompt and answer schema over two made-up tools — so
 * `automcp check --probe` proves the key, the URL, the model name and structured output all work.
 */
export async function probeSelectorModel(model: ChatSelector): Promise<ProbeResult> {
  const tool = (name: string, description: string, params: string[]): CatalogTool => ({
    name: `probe.${name}`,
    server: 'probe',
    tool: name,
    hash: '0000000000000000',
    definition: {
      name: `probe.${name}`,
      description,
      inputSchema: { type: 'object', properties: Object.fromEntries(params.map((param) => [param, { type: 'string' }])) },
    },
  });
  const candidates = [
    tool('get_forecast', 'Get the weather forecast for a city.', ['city']),
    tool('read_file', 'Read the contents of a file.', ['path']),
  ];
  const messages = buildSelectionPrompt({
    query: 'Will it rain in Paris tomorrow?',
    profile: { name: 'probe', description: 'A connectivity check of the tool selector.' },
    candidates,
    limit: 1,
  });
  const started = performance.now();
  const answer = await askModel({ model, messages });
  const latencyMs = Math.round(performance.now() - started);
  const usage = answer.usage ? { usage: answer.usage } : {};
  if (answer.error !== undefined) return { ok: false, latencyMs, ...usage, error: answer.error };
  const read = readChoice(answer.parsed, candidates);
  if (read.error !== undefined) return { ok: false, latencyMs, ...usage, error: read.error };
  return { ok: true, latencyMs, ...usage, chosen: read.chosen.map((entry) => entry.name) };
}

/**
 * One structured-output call, aborted at `timeoutMs` or when `signal` (the caller's request) aborts. The
 * race matters as much as the abort: a client that ignores its signal still cannot hold the answer past
 * the deadline, nor a cancelled request past its cancellation. A timeout or a failed call is an answer
 * with an error (the run falls back to the lexical ranking); a cancellation rejects with the signal's
 * reason, because nobody is left to receive a fallback.
 */
export async function askModel({
  model,
  messages,
  signal,
  timeoutMs = model.timeoutMs,
  schema = 'choice',
}: {
  model: ChatSelector;
  messages: PromptMessage[];
  signal?: AbortSignal;
  /** This call's deadline; the model's `timeoutMs` unless a stage shares it. */
  timeoutMs?: number;
  /** Which answer schema: the tool choice, the decomposition's needs, or a stage's own. */
  schema?: 'choice' | 'needs' | AnswerSchema;
}): Promise<ModelAnswer> {
  signal?.throwIfAborted();
  const answer = typeof schema === 'string' ? SCHEMAS[schema] : schema;
  model.onCall?.(messages);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let cancel: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no answer within ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    if (signal) {
      cancel = () => {
        controller.abort(signal.reason);
        reject(signal.reason);
      };
      signal.addEventListener('abort', cancel, { once: true });
    }
  });
  try {
    const result: unknown = await Promise.race([
      structured(model.chat, answer).invoke(messages, { signal: controller.signal }),
      deadline,
    ]);
    return unpack(result, answer.name);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    return { error: model.scrub(clip(error instanceof Error ? error.message : String(error), 300)) };
  } finally {
    clearTimeout(timer);
    if (cancel) signal?.removeEventListener('abort', cancel);
  }
}

/** An answer schema a stage brings: `key` tells apart schemas that share a `name` but not their fields. */
export interface AnswerSchema {
  key: string;
  /** The tool or JSON-schema name the provider sees. */
  name: string;
  schema: z.ZodType<Record<string, unknown>>;
}

const SCHEMAS: Record<'choice' | 'needs', AnswerSchema> = {
  choice: { key: 'choice', name: CHOICE_NAME, schema: choiceSchema },
  needs: { key: 'needs', name: NEEDS_NAME, schema: needsSchema },
};

const runnables = new WeakMap<BaseChatModel, Map<string, Runnable<PromptMessage[], unknown>>>();

/** The model with an answer schema bound, built once per model and schema (binding converts the schema each time). */
function structured(chat: BaseChatModel, answer: AnswerSchema): Runnable<PromptMessage[], unknown> {
  let bound = runnables.get(chat);
  if (!bound) runnables.set(chat, (bound = new Map()));
  let runnable = bound.get(answer.key);
  if (!runnable) {
    runnable = chat.withStructuredOutput(answer.schema, { name: answer.name, includeRaw: true }) as Runnable<
      PromptMessage[],
      unknown
    >;
    bound.set(answer.key, runnable);
  }
  return runnable;
}

/**
 * With `includeRaw`, LangChain answers `{raw, parsed}` (`parsed` null when the answer did not parse);
 * some models, such as LangChain's own test doubles, answer the parsed object directly.
 */
function unpack(result: unknown, name: string): ModelAnswer {
  if (result === null || typeof result !== 'object' || !('raw' in result) || !('parsed' in result)) return { parsed: result };
  const { raw, parsed: structured } = result as { raw: BaseMessage; parsed: unknown };
  const parsed = structured ?? fromRaw(raw, name);
  const usage = (raw as { usage_metadata?: { input_tokens?: number; output_tokens?: number; total_tokens?: number } })
    .usage_metadata;
  return {
    parsed,
    ...(usage
      ? {
          usage: {
            inputTokens: usage.input_tokens ?? 0,
            outputTokens: usage.output_tokens ?? 0,
            totalTokens: usage.total_tokens ?? (usage.input_tokens ?? 0) + (usage.output_tokens ?? 0),
          },
        }
      : {}),
  };
}

/**
 * When LangChain's parser gave up, the answer may still be there: the choice tool's arguments, or JSON
 * in the text (some OpenAI-compatible servers wrap it in a code fence).
 */
function fromRaw(raw: BaseMessage, name: string): unknown {
  // The call under the schema's name; else the one call there is (some servers rename tools).
  const calls = (raw as { tool_calls?: { name: string; args: unknown }[] }).tool_calls ?? [];
  const call = calls.find((entry) => entry.name === name) ?? (calls.length === 1 ? calls[0] : undefined);
  if (call) return call.args;
  if (typeof raw.content !== 'string') return null;
  const text = raw.content.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/**
 * The usable part of an answer. Reasons are optional on this side (a model that forgets them still
 * chose); names must be candidates — spelled exactly, or differing only in case when that is unambiguous.
 */
function readChoice(
  parsed: unknown,
  candidates: readonly CatalogTool[],
): { chosen: { name: string; reason: string }[]; dropped: string[]; error?: string } {
  const checked = choiceSchema.safeParse(parsed);
  const entries = checked.success ? checked.data.tools : looseEntries(parsed);
  if (!entries) return { chosen: [], dropped: [], error: 'the answer does not match the answer schema' };
  const exact = new Set(candidates.map((tool) => tool.name));
  const folded = new Map<string, string | null>();
  for (const tool of candidates) {
    const lower = tool.name.toLowerCase();
    folded.set(lower, folded.has(lower) ? null : tool.name);
  }
  const chosen: { name: string; reason: string }[] = [];
  const dropped: string[] = [];
  for (const entry of entries) {
    const name = exact.has(entry.name) ? entry.name : folded.get(entry.name.toLowerCase());
    if (!name) dropped.push(clip(entry.name, 100));
    else if (!chosen.some((seen) => seen.name === name)) chosen.push({ name, reason: clip(entry.reason ?? '', REASON_CHARS) });
  }
  if (chosen.length > 0) return { chosen, dropped };
  return { chosen, dropped, error: entries.length === 0 ? 'the model chose no tools' : 'the model chose no candidate tool' };
}

/** `{tools: [...]}` with string names or `{name, reason?}` entries; undefined when it is not that shape. */
function looseEntries(parsed: unknown): { name: string; reason?: string }[] | undefined {
  const tools = (parsed as { tools?: unknown } | null)?.tools;
  if (!Array.isArray(tools)) return undefined;
  const entries: { name: string; reason?: string }[] = [];
  for (const item of tools) {
    if (typeof item === 'string') entries.push({ name: item });
    else if (item !== null && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string') {
      const { name, reason } = item as { name: string; reason?: unknown };
      entries.push({ name, ...(typeof reason === 'string' ? { reason } : {}) });
    } else return undefined;
  }
  return entries;
}
