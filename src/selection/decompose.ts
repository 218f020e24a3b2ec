/**
 * The decompose node of the selection graph (`selector.decompose`): before retrieval, the chat model
 * states the request's needs — 1 to 4 short action + object phrases, in one structured call — so that
 * retrieval can rank each need on its own. A task-level request mixes several needs, and one ranking of
 * all its words serves none of them well.
 *
 * It is bounded like the LLM node: a request that reads as one need is not sent at all (no extra call)
 * unless `selector.decompose` is `always`;
 * an error, a malformed answer or no answer within half the model's `timeoutMs` leaves the needs unset,
 * so retrieval ranks the request as before. The deadline it sets covers both model calls: the choice
 * that follows gets what this stage left of `timeoutMs`, never less than half.
 */
import type { Logger } from '../logging/logger.js';
import type { SelectionCache } from './cache.js';
import type { RerankNode, RerankOptions, SelectionStateType, SelectionStateUpdate } from './graph.js';
import { askModel, type ChatSelector } from './llm.js';
import { buildNeedsPrompt, clip, MAX_NEEDS } from './prompts.js';

/** Longest need kept, in characters. */
const NEED_CHARS = 100;

/**
 * Words and marks that join two requests in one sentence. A request without any of them, and short,
 * is taken as one need: asking the model to split it would cost a call for nothing.
 */
const JOINS = /\b(?:and|then|also|plus|after|before|while)\b|[,;&+]/i;
/** A request of at most this many words without a join is one need. */
const SINGLE_NEED_WORDS = 12;

/** True when `query` reads as one need (no model call is spent on it). */
export function looksSingleNeed(query: string): boolean {
  const words = query.trim().split(/\s+/).filter(Boolean);
  return words.length <= SINGLE_NEED_WORDS && !JOINS.test(query);
}

/**
 * Builds the decompose node. With `always`, a request that reads as one need is sent too: its need,
 * restated in the words tool descriptions use, is ranked next to the request (one more call each time).
 */
export function createLlmDecompose({
  model,
  logger,
  always = false,
  cache,
}: {
  model: ChatSelector;
  logger: Logger;
  always?: boolean;
  /** The LLM node's cache: a choice it already holds needs no needs. */
  cache?: SelectionCache;
}): RerankNode {
  return async (state: SelectionStateType, options: RerankOptions = {}): Promise<SelectionStateUpdate> => {
    const deadlineAt = Date.now() + model.timeoutMs;
    if (!always && looksSingleNeed(state.query)) return { deadlineAt, needs: undefined };
    const key = { profile: state.profile, query: state.query, etag: state.view.etag, limit: state.limit };
    const hit = cache?.get(key);
    // The cached choice was made over these needs' candidates: replay them rather than ask again.
    if (hit) return { deadlineAt, needs: hit.needs ? [...hit.needs] : undefined };
    const answer = await askModel({
      model,
      messages: buildNeedsPrompt(state.query),
      schema: 'needs',
      timeoutMs: Math.max(1, Math.floor(model.timeoutMs / 2)),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const needs = answer.error === undefined ? readNeeds(answer.parsed) : undefined;
    if (!needs) {
      logger.warn(
        { model: model.label, error: answer.error ?? 'the answer does not list needs' },
        'selector.decompose gave no usable answer; ranking the request as a whole',
      );
      return { deadlineAt, needs: undefined };
    }
    return { deadlineAt, needs };
  };
}

/** The usable needs of an answer: non-empty strings, each once, at most {@link MAX_NEEDS}; else undefined. */
export function readNeeds(parsed: unknown): string[] | undefined {
  const list = (parsed as { needs?: unknown } | null)?.needs;
  if (!Array.isArray(list)) return undefined;
  const needs: string[] = [];
  for (const item of list) {
    if (typeof item !== 'string') continue;
    const need = clip(item, NEED_CHARS);
    if (need && !needs.some((seen) => seen.toLowerCase() === need.toLowerCase())) needs.push(need);
  }
  return needs.length > 0 ? needs.slice(0, MAX_NEEDS) : undefined;
}
