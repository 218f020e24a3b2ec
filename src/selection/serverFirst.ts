/**
 * The server-first stage (`selector.serverFirst`): before retrieval, the model picks the servers whose
 * tools the request needs, from one line per server (serverSummaries.ts), and retrieval adds the picked
 * servers' best tools for the request to the lexical candidates. A tool whose own words miss the request
 * can still reach the model when its server's description matches what the request means.
 *
 * It runs in the graph's pre-retrieval slot (where the decompose node sits) and makes **one** structured
 * call, which also carries what the other pre-retrieval stages ask: the request's needs when
 * `selector.decompose` applies to this request, else the rewrite when `selector.rewrite` is on
 * (rewrite.ts). So a selection costs at most two model calls with any of them on: this one and the choice.
 * `selector.rewrite` alone uses the same call without the server list.
 *
 * Bounded like every stage: an error, a garbage answer or no answer within half of `timeoutMs` leaves
 * servers, needs and rewrite unset, and retrieval ranks the request as it would without the stage (the
 * lexical candidates); server names not in the list shown are dropped. The deadline it sets covers the
 * choice too. With `serverFirst: lexical` no model picks: a BM25 ranking of the same servers does (no
 * call, no labels), a cheap variant and how the bench measures the stage without an oracle. Like every
 * pre-retrieval stage, it runs only on runs that will ask the model to choose.
 */
import { z } from 'zod';
import type { CallerView } from '../catalog/view.js';
import type { Logger } from '../logging/logger.js';
import type { SelectionCache } from './cache.js';
import { createLlmDecompose, looksSingleNeed, readNeeds } from './decompose.js';
import type { RerankNode, RerankOptions, SelectionStateType, SelectionStateUpdate } from './graph.js';
import type { LexicalIndex, RankedTool } from './lexical.js';
import { askModel, type AnswerSchema, type ChatSelector } from './llm.js';
import { needsSchema, type PromptMessage } from './prompts.js';
import { readRewrite, REWRITE_INSTRUCTION, rewriteField } from './rewrite.js';
import type { ServerSummaries, ServerSummary } from './serverSummaries.js';

/** Most servers the stage picks. */
export const MAX_PICKS = 3;
/**
 * Most server lines the model is shown (about 28 cl100k tokens each: 580 for the call on toolgym-tasks).
 * On the dev sets 20 lines hold the server of 95% of toolgym-tasks' required tools; 30 cost 1,000.
 */
export const SERVERS_SHOWN = 20;
/**
 * Share of the candidates the picked servers' tools may take. The rest stays the lexical top, so a wrong
 * pick costs the lexical ranking's last quarter at most, never its best (half measured worse with a
 * lexical pick: docs/benchmarks.md).
 */
export const SERVER_SHARE = 0.25;

/** The name under which the stage's answer schema is sent. */
export const PLAN_NAME = 'plan_search';

/** What the stage's call asks for on one request. */
interface Ask {
  servers: boolean;
  needs: boolean;
  rewrite: boolean;
}

/** Options of {@link createServerFirst}. */
export interface ServerFirstOptions {
  summaries: ServerSummaries;
  logger: Logger;
  /** The model that picks (one call). Without it the lexical ranking of server lines picks (no call). */
  model?: ChatSelector;
  /** With `model`: pick servers in the call (`selector.serverFirst`); false for a rewrite-only call. */
  servers?: boolean;
  /** With `model`: `selector.decompose`, whose needs the same call states. */
  decompose?: boolean | 'always';
  /** With `model`: `selector.rewrite`, asked in the same call when no needs are. */
  rewrite?: boolean;
  /** Without `model`: the decompose node, run first (its needs then rank the servers too). */
  before?: RerankNode;
  /** The LLM node's cache: a cached choice replays the servers and needs it was made over. */
  cache?: SelectionCache;
}

/**
 * The node of the graph's pre-retrieval slot for these settings: the server-first call (which carries
 * needs and rewrite), the lexical server pick after the decomposition, the decomposition alone, or none.
 */
export function createPreRetrieval({
  model,
  logger,
  decompose = false,
  serverFirst = false,
  rewrite = false,
  summaries,
  cache,
}: {
  model: ChatSelector;
  logger: Logger;
  decompose?: boolean | 'always';
  serverFirst?: boolean | 'lexical';
  rewrite?: boolean;
  summaries: ServerSummaries;
  cache?: SelectionCache;
}): RerankNode | undefined {
  const shared = { logger, ...(cache ? { cache } : {}) };
  // One model call at most before the choice: the one that picks servers also states needs or rewrites.
  const call =
    serverFirst === true || rewrite
      ? createServerFirst({ ...shared, summaries, model, servers: serverFirst === true, decompose, rewrite })
      : decompose
        ? createLlmDecompose({ ...shared, model, always: decompose === 'always' })
        : undefined;
  if (serverFirst === 'lexical') return createServerFirst({ summaries, logger, ...(call ? { before: call } : {}) });
  return call;
}

/** Builds the pre-retrieval node of the server-first stage (and of the rewrite). */
export function createServerFirst(options: ServerFirstOptions): RerankNode {
  const { summaries, logger, model, cache } = options;
  if (!model) {
    return async (state, rerank = {}) => {
      const before = options.before ? await options.before(state, rerank) : {};
      const text = [state.query, ...(before.needs ?? [])].join(' ');
      const picked = summaries.rank(state.view, text, MAX_PICKS).map((entry) => entry.name);
      return { ...before, servers: picked.length > 0 ? picked : undefined };
    };
  }
  return async (state: SelectionStateType, rerank: RerankOptions = {}): Promise<SelectionStateUpdate> => {
    const deadlineAt = Date.now() + model.timeoutMs;
    const key = { profile: state.profile, query: state.query, etag: state.view.etag, limit: state.limit };
    const hit = cache?.get(key);
    // The cached choice was made over these candidates: replay what found them rather than ask again.
    if (hit)
      return { deadlineAt, needs: hit.needs ? [...hit.needs] : undefined, servers: hit.servers ? [...hit.servers] : undefined };
    const needs = options.decompose === 'always' || (options.decompose === true && !looksSingleNeed(state.query));
    const ask: Ask = { servers: options.servers !== false, needs, rewrite: options.rewrite === true && !needs };
    const shown = ask.servers ? summaries.shortlist(state.view, state.query, SERVERS_SHOWN) : [];
    if (ask.servers && shown.length === 0) ask.servers = false;
    if (!ask.servers && !ask.needs && !ask.rewrite) return { deadlineAt };
    const answer = await askModel({
      model,
      messages: buildPlanPrompt({ query: state.query, servers: shown, ask }),
      schema: planSchema(ask),
      timeoutMs: Math.max(1, Math.floor(model.timeoutMs / 2)),
      ...(rerank.signal ? { signal: rerank.signal } : {}),
    });
    const read = answer.error === undefined ? readPlan(answer.parsed, { ask, shown, query: state.query }) : undefined;
    if (!read) {
      logger.warn(
        { model: model.label, error: answer.error ?? 'the answer does not match the answer schema' },
        `${options.servers === false ? 'selector.rewrite' : 'selector.serverFirst'} gave no usable answer; ranking the request as a whole`,
      );
      return { deadlineAt, needs: undefined, servers: undefined };
    }
    return { deadlineAt, needs: read.needs, servers: read.servers };
  };
}

/** The answer schema for what is asked (each combination bound once per model). */
export function planSchema(ask: Ask): AnswerSchema {
  const shape: Record<string, z.ZodType> = {};
  if (ask.servers) {
    shape.servers = z
      .array(z.string().describe('a server name, exactly as listed'))
      .describe(`the servers whose tools the task needs, at most ${MAX_PICKS}, most useful first; empty when none fits`);
  }
  if (ask.needs) shape.needs = needsSchema.shape.needs;
  if (ask.rewrite) shape.request = rewriteField;
  const key = `plan:${Object.keys(shape).join(',')}`;
  return { key, name: PLAN_NAME, schema: z.object(shape).describe('Where to search for the task’s tools.') };
}

/** The messages of the stage's call. */
export function buildPlanPrompt({
  query,
  servers,
  ask,
}: {
  query: string;
  servers: readonly ServerSummary[];
  ask: Ask;
}): PromptMessage[] {
  const system = ['You prepare tool search for an AI agent. The agent states its task.'];
  if (ask.servers) {
    system.push(
      `Pick the servers whose tools the task needs ("servers"), at most ${MAX_PICKS}, most useful first, spelled exactly as listed; an empty list when none fits.`,
    );
  }
  if (ask.needs) {
    system.push(
      'List the distinct things the task needs tools for ("needs"), 1 to 4, each a short action and object phrase (at most 10 words) in plain words a tool description would use, like "send an email" or "read a PDF file". One need when the task asks for one thing.',
    );
  }
  if (ask.rewrite) system.push(REWRITE_INSTRUCTION);
  const human = [`Task: ${query}`];
  if (ask.servers) {
    human.push('', `Servers (${servers.length}; name: what its tools do):`);
    servers.forEach((server, index) => human.push(`${index + 1}. ${server.name}: ${server.summary}`));
  }
  return [
    ['system', system.join('\n')],
    ['human', human.join('\n')],
  ];
}

/**
 * The usable part of an answer, or undefined when nothing asked for is usable (the stage then leaves
 * retrieval as it was). Server names must be among those shown (exactly, or differing only in case).
 */
export function readPlan(
  parsed: unknown,
  { ask, shown, query }: { ask: Ask; shown: readonly ServerSummary[]; query: string },
): { servers: string[] | undefined; needs: string[] | undefined } | undefined {
  const servers = ask.servers ? readServers(parsed, shown) : undefined;
  const needs = ask.needs ? readNeeds(parsed) : undefined;
  const rewrite = ask.rewrite ? readRewrite(parsed, query) : undefined;
  // An empty server list is an answer ("none fits"); a missing or malformed one is not.
  if (servers === undefined && needs === undefined && rewrite === undefined) return undefined;
  return { servers: servers && servers.length > 0 ? servers : undefined, needs: needs ?? (rewrite ? [rewrite] : undefined) };
}

/** Picked names among those shown, each once, at most {@link MAX_PICKS}; undefined when not a list. */
export function readServers(parsed: unknown, shown: readonly ServerSummary[]): string[] | undefined {
  const list = (parsed as { servers?: unknown } | null)?.servers;
  if (!Array.isArray(list)) return undefined;
  const names = new Map(shown.map((entry) => [entry.name.toLowerCase(), entry.name]));
  const picked: string[] = [];
  for (const item of list) {
    const name = typeof item === 'string' ? names.get(item.trim().toLowerCase()) : undefined;
    if (name !== undefined && !picked.includes(name)) picked.push(name);
  }
  return picked.slice(0, MAX_PICKS);
}

/**
 * The candidates with the picked servers' tools added (graph.ts retrieve). Of the `shown` the model will
 * see, the lexical top minus the servers' share (a quarter, or every slot the lexical ranking leaves
 * empty) stays first; then each picked server's best tools for `text` in turn (its tools that
 * share a term with it, then its others in catalog order: the server was picked for what it means);
 * then the rest of the lexical ranking, cut to `k`. `serves` (the needs each candidate was found for)
 * follows its candidates; added tools serve no need.
 */
export function withServerTools({
  candidates,
  serves,
  servers,
  index,
  view,
  text,
  k,
  shown = k,
}: {
  candidates: readonly RankedTool[];
  serves: number[][] | undefined;
  servers: readonly string[];
  index: LexicalIndex;
  view: CallerView;
  text: string;
  /** Length of the list retrieve hands on. */
  k: number;
  /** How many of them the model is shown (`selector.candidates`): the servers' tools go within these. */
  shown?: number;
}): { candidates: RankedTool[]; serves: number[][] | undefined } {
  // Slots the lexical ranking leaves empty cost nothing: the servers may fill them too.
  const window = Math.min(shown, k);
  const share = Math.max(1, Math.floor(window * SERVER_SHARE), window - candidates.length);
  const top = candidates.slice(0, Math.max(0, window - share));
  const taken = new Set(top.map((entry) => entry.tool.name));
  const per = Math.ceil(share / servers.length);
  const lists = servers.map((server) => bestOfServer({ index, view, server, text, count: per + top.length }));
  const added: RankedTool[] = [];
  for (let rank = 0; added.length < share && lists.some((list) => rank < list.length); rank++) {
    for (const list of lists) {
      const entry = list[rank];
      if (entry === undefined || taken.has(entry.tool.name) || added.length >= share) continue;
      taken.add(entry.tool.name);
      added.push(entry);
    }
  }
  const rest = candidates.slice(top.length).filter((entry) => !taken.has(entry.tool.name));
  const merged = [...top, ...added, ...rest].slice(0, k);
  if (!serves) return { candidates: merged, serves: undefined };
  const byName = new Map(candidates.map((entry, position) => [entry.tool.name, serves[position] ?? []]));
  return { candidates: merged, serves: merged.map((entry) => byName.get(entry.tool.name) ?? []) };
}

/** A server's tools for `text`: those that share a term first (BM25F order), then the rest in catalog order. */
function bestOfServer({
  index,
  view,
  server,
  text,
  count,
}: {
  index: LexicalIndex;
  view: CallerView;
  server: string;
  text: string;
  count: number;
}): RankedTool[] {
  const ranked = index.search(text, { limit: count, allowed: (tool) => tool.server === server });
  if (ranked.length >= count) return ranked;
  const seen = new Set(ranked.map((entry) => entry.tool.name));
  for (const tool of view.tools) {
    if (ranked.length >= count) break;
    if (tool.server === server && !seen.has(tool.name)) ranked.push({ tool, score: 0 });
  }
  return ranked;
}
