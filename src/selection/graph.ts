/**
 * Tool selection as a LangGraph `StateGraph`: scope → [decompose] → [embed] → retrieve → [rerank] → finalize.
 *
 * - scope: the caller's profile narrows the catalog before anything is ranked (CONTRACT §2).
 * - decompose (optional, `selector.decompose`): the model states the request's needs; nothing, or one
 *   need, leaves retrieval as it was. With `selector.serverFirst` or `selector.rewrite`, the node of
 *   serverFirst.ts takes this slot: one call that also picks servers, whose best tools retrieve adds.
 * - embed (optional, `selector.embeddings`; hybrid.ts): the request and its needs as vectors, for every
 *   profile but a `selection.mode: lexical` one; nothing while tool vectors are missing or the service
 *   is down, and retrieve then ranks lexically.
 * - retrieve: the lexical ranker proposes up to `candidates` tools from that scope; with two or more
 *   needs (or one, restated) it ranks each need and the whole request, and interleaves the lists so that
 *   every need keeps its best tools among the candidates (each candidate carries the needs that found it).
 *   With query vectors, each ranking is the fusion of the lexical one with the ranking by meaning.
 * - rerank (optional): a node that may reorder or cut the candidates — the LLM node of llm.ts, which
 *   reads the task and the caller's profile. It writes `chosen`, `mode` and its trace; without it, when
 *   the profile's `selection.mode` is `lexical`, or when it gives nothing usable, finalize keeps the
 *   lexical order.
 * - finalize: pinned tools first, then the ranking, cut to the limit; for a `selection.mode: llm`
 *   profile, a run the model did not choose for is marked `fallback`.
 *
 * LangGraph is loaded, and the graph compiled, on the first run that reranks. A run without a rerank
 * step (no model, or a profile with `selection.mode: lexical` or `hybrid`) is the line scope → [embed] →
 * retrieve → finalize,
 * and runs the same node functions in that order without it: LangGraph and the LangChain core under it
 * cost a process about 0.3 s and 35 MB to load, which a gateway without a model would pay for nothing.
 */
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import type { Profile } from '../config/load.js';
import { matchesAny } from '../catalog/glob.js';
import type { CallerView } from '../catalog/view.js';
import type { CatalogTool } from '../catalog/types.js';
import type { EmbeddingsStage } from './hybrid.js';
import type { LexicalIndex, RankedTool } from './lexical.js';
import { withServerTools } from './serverFirst.js';

/**
 * How the tools were chosen (CONTRACT §1); `hybrid` when no model chose and the ranking fused
 * embeddings with the lexical one.
 */
export type SelectionMode = 'llm' | 'hybrid' | 'lexical' | 'fallback';

/** What the LLM node did in one run: for logs and `automcp select --explain`. */
export interface LlmTrace {
  /** `provider:model`. */
  model: string;
  /** How many candidates the model was shown. */
  candidates: number;
  /** The usable part of the answer, in the model's order, with its reasons. */
  chosen: { name: string; reason: string }[];
  /** Names in the answer that were not among the candidates (dropped). */
  dropped: string[];
  /** True when the choice came from the selection cache and no model was called. */
  cached: boolean;
  latencyMs: number;
  /** The needs the decompose node stated, when it ran and gave some. */
  needs?: string[];
  /** The servers the server-first stage picked, when it ran and picked some. */
  servers?: string[];
  /** Token usage the provider reported (LangChain `usage_metadata`). */
  usage?: { inputTokens: number; outputTokens: number; totalTokens: number };
  /** Why the answer was not used; set exactly when the run fell back to the lexical ranking. */
  error?: string;
}

/** The graph's state; each node returns the part it writes. */
export interface SelectionStateType {
  query: string;
  profile: Profile;
  limit: number;
  /** How many lexical candidates retrieve hands on. */
  candidateCount: number;
  view: CallerView;
  candidates: RankedTool[];
  /** Qualified names a rerank node chose, in its order; undefined keeps the lexical order. */
  chosen: string[] | undefined;
  mode: SelectionMode;
  /** The LLM node's trace; undefined when no model took part. */
  llm: LlmTrace | undefined;
  selected: CatalogTool[];
  /** The request's needs as the decompose node stated them; undefined when it did not run or gave none. */
  needs?: string[] | undefined;
  /** Per candidate (same order), the needs (0-based) whose ranking found it; set with two or more needs. */
  serves?: number[][] | undefined;
  /** When the whole model path must be done (epoch ms); set by the decompose node, read by rerank. */
  deadlineAt?: number | undefined;
  /** The request's vector, then each need's (same order as `needs`); set by the embed node. */
  queryVectors?: Float32Array[] | undefined;
  /** Why the embed node gave no vectors though it asked (an outage, a timeout); undefined otherwise. */
  embeddingsError?: string | undefined;
  /** Servers the server-first stage picked (serverFirst.ts); retrieve adds their best tools. */
  servers?: string[] | undefined;
}

/** The partial state a node returns. */
export type SelectionStateUpdate = Partial<SelectionStateType>;

/** What a rerank node gets besides the state. */
export interface RerankOptions {
  /** Aborts when the run is cancelled (the caller's request was): a model call must stop with it. */
  signal?: AbortSignal;
}

/** A node that may sit between retrieve and finalize. */
export type RerankNode = (state: SelectionStateType, options?: RerankOptions) => Promise<SelectionStateUpdate>;

/** What the graph needs from outside: the caller's view and the lexical index of the catalog. */
export interface SelectionGraphDeps {
  viewFor(profile: Profile): CallerView;
  indexFor(view: CallerView): LexicalIndex;
  rerank?: RerankNode;
  /** States the request's needs before retrieval (llm.ts); runs only on runs that rerank. */
  decompose?: RerankNode;
  /** The embeddings stage (hybrid.ts): the embed node, and the fusion retrieve applies with its vectors. */
  embeddings?: EmbeddingsStage;
  /** Re-scores the lexical candidates with what was learned from use (learning/rank.ts); optional. */
  learned?: (input: {
    query: string;
    profile: Profile;
    view: CallerView;
    index: LexicalIndex;
    candidates: RankedTool[];
    limit: number;
  }) => RankedTool[];
}

/** What a selection run takes; the graph fills in the rest of the state. */
export interface SelectionInput {
  query: string;
  profile: Profile;
  limit: number;
  candidateCount: number;
}

/** The compiled graph, as the selector uses it (LangGraph's own types stay inside this module). */
export interface SelectionGraph {
  /** Runs the graph; with `signal`, a cancelled run rejects with the signal's reason as soon as it aborts. */
  invoke(input: SelectionInput, options?: { signal?: AbortSignal }): Promise<SelectionStateType>;
}

/** Builds the selection graph. */
export function createSelectionGraph(deps: SelectionGraphDeps): SelectionGraph {
  const nodes = {
    scope: (state: SelectionStateType): SelectionStateUpdate => ({ view: deps.viewFor(state.profile) }),
    retrieve: (state: SelectionStateType): SelectionStateUpdate => {
      const k = Math.max(state.candidateCount, state.limit);
      const index = deps.indexFor(state.view);
      const vectors = deps.embeddings && state.queryVectors;
      // Text `at` of [request, ...needs]: its lexical ranking, fused with its ranking by meaning when there are vectors.
      const rank = (text: string, at: number) => {
        const lexical = index.search(text, { limit: k });
        const vector = vectors ? vectors[at] : undefined;
        return vector ? deps.embeddings!.fuse({ tools: state.view.tools, lexical, vector, limit: k }) : lexical;
      };
      let candidates = rank(state.query, 0);
      if (deps.learned) candidates = deps.learned({ ...state, index, candidates, limit: k });
      const mode: SelectionMode = vectors ? 'hybrid' : state.embeddingsError !== undefined ? 'fallback' : 'lexical';
      const base = { mode, chosen: undefined, llm: undefined };
      const needs = state.needs ?? [];
      const found =
        needs.length === 0
          ? { candidates, serves: undefined }
          : interleave([...needs.map((need, at) => rank(need, at + 1)), candidates], k, needs.length);
      if (!state.servers || state.servers.length === 0) return { ...base, ...found };
      const text = [state.query, ...needs].join(' ');
      return {
        ...base,
        ...withServerTools({ ...found, servers: state.servers, index, view: state.view, text, k, shown: state.candidateCount }),
      };
    },
    finalize: (state: SelectionStateType): SelectionStateUpdate => ({ selected: finalize(state), mode: finalMode(state) }),
    embed: async (state: SelectionStateType, options?: RerankOptions) =>
      deps.embeddings && embeds(deps, state) ? deps.embeddings.embed(state, options) : {},
  };
  let compiled: Promise<SelectionGraph> | undefined;
  return {
    async invoke(input, options = {}) {
      if (!reranks(deps, input as SelectionStateType)) {
        options.signal?.throwIfAborted();
        return runLine(nodes, input, options.signal);
      }
      compiled ??= compileGraph(deps, nodes);
      return (await compiled).invoke(input, options);
    },
  };
}

type Node = (state: SelectionStateType) => SelectionStateUpdate;

/**
 * Round-robin over the rankings, each tool once, up to `k`: the first tool of every list, then every
 * second, and so on, so one need's many strong matches cannot crowd out another's. The lists before
 * `needCount` are the needs'; a candidate records which of them found it (anywhere in their top `k`).
 */
export function interleave(
  lists: readonly (readonly RankedTool[])[],
  k: number,
  needCount: number,
): { candidates: RankedTool[]; serves: number[][] } {
  const candidates: RankedTool[] = [];
  const at = new Map<string, number>();
  const longest = Math.max(0, ...lists.map((list) => list.length));
  for (let rank = 0; rank < longest && candidates.length < k; rank++) {
    for (const list of lists) {
      const entry = list[rank];
      if (entry === undefined || at.has(entry.tool.name) || candidates.length >= k) continue;
      at.set(entry.tool.name, candidates.length);
      candidates.push(entry);
    }
  }
  const serves = candidates.map(() => [] as number[]);
  lists.slice(0, needCount).forEach((list, need) => {
    for (const entry of list) {
      const position = at.get(entry.tool.name);
      if (position !== undefined) serves[position]!.push(need);
    }
  });
  return { candidates, serves };
}

/** The nodes the graph is made of besides the model's. */
interface LineNodes {
  scope: Node;
  retrieve: Node;
  finalize: Node;
  embed: RerankNode;
}

/** scope → [embed] → retrieve → finalize, each node's update merged into the state as LangGraph would. */
async function runLine(nodes: LineNodes, input: SelectionInput, signal?: AbortSignal): Promise<SelectionStateType> {
  let state = input as SelectionStateType;
  state = { ...state, ...nodes.scope(state) };
  state = { ...state, ...(await nodes.embed(state, signal ? { signal } : {})) };
  for (const node of [nodes.retrieve, nodes.finalize]) state = { ...state, ...node(state) };
  return state;
}

async function compileGraph(deps: SelectionGraphDeps, nodes: LineNodes): Promise<SelectionGraph> {
  const { Annotation, END, START, StateGraph } = await import('@langchain/langgraph');
  // Every field is last-value-wins; the interface above is the state's type.
  const last = <T>() => Annotation<T>();
  const SelectionState = Annotation.Root({
    query: last<string>(),
    profile: last<Profile>(),
    limit: last<number>(),
    candidateCount: last<number>(),
    view: last<CallerView>(),
    candidates: last<RankedTool[]>(),
    chosen: last<string[] | undefined>(),
    mode: last<SelectionMode>(),
    llm: last<LlmTrace | undefined>(),
    selected: last<CatalogTool[]>(),
    needs: last<string[] | undefined>(),
    serves: last<number[][] | undefined>(),
    deadlineAt: last<number | undefined>(),
    queryVectors: last<Float32Array[] | undefined>(),
    embeddingsError: last<string | undefined>(),
    servers: last<string[] | undefined>(),
  });
  const graph = new StateGraph(SelectionState)
    .addNode('scope', nodes.scope)
    .addNode('decompose', async (state: SelectionStateType, config: LangGraphRunnableConfig) =>
      deps.decompose ? deps.decompose(state, config.signal ? { signal: config.signal } : {}) : {},
    )
    .addNode('embed', async (state: SelectionStateType, config: LangGraphRunnableConfig) =>
      nodes.embed(state, config.signal ? { signal: config.signal } : {}),
    )
    .addNode('retrieve', nodes.retrieve)
    // LangGraph hands each node a signal that aborts with the run's own (the invoke config's `signal`).
    .addNode('rerank', async (state: SelectionStateType, config: LangGraphRunnableConfig) =>
      deps.rerank ? deps.rerank(state, config.signal ? { signal: config.signal } : {}) : {},
    )
    .addNode('finalize', nodes.finalize)
    .addEdge(START, 'scope')
    // The decomposition is one more model call: only for runs that will ask the model anyway.
    .addConditionalEdges(
      'scope',
      (state: SelectionStateType) => (deps.decompose && reranks(deps, state) ? 'decompose' : afterNeeds(deps, state)),
      ['decompose', 'embed', 'retrieve'],
    )
    .addConditionalEdges('decompose', (state: SelectionStateType) => afterNeeds(deps, state), ['embed', 'retrieve'])
    .addEdge('embed', 'retrieve')
    // When the profile insists on the lexical ranking (selection.mode: lexical) no model is asked and
    // the step is skipped: every graph step costs LangGraph about 0.5 ms and 20 KB of bookkeeping that
    // only a full garbage collection frees. (Such runs do not reach LangGraph at all today; the edge
    // keeps the graph right on its own.)
    .addConditionalEdges('retrieve', (state: SelectionStateType) => (reranks(deps, state) ? 'rerank' : 'finalize'), [
      'rerank',
      'finalize',
    ])
    .addEdge('rerank', 'finalize')
    .addEdge('finalize', END);
  const compiled = graph.compile();
  return {
    invoke: (input, options = {}) =>
      compiled.invoke(input, options.signal ? { signal: options.signal } : undefined) as Promise<SelectionStateType>,
  };
}

/**
 * A profile with `selection.mode: llm` asks for the model's choice: for it the lexical ranking is never
 * the plan, only what it gets when the model did not choose — it failed, there is no usable model, or
 * nothing shared a word with the task to show it. So its answers say `fallback` then, never `lexical`,
 * and logs and metrics by mode show such a caller is not getting what its profile asks for.
 */
function finalMode(state: SelectionStateType): SelectionMode {
  const asked = state.profile.selection.mode;
  if (asked === 'llm' && (state.mode === 'lexical' || state.mode === 'hybrid')) return 'fallback';
  // Likewise a `hybrid` profile: a lexical answer there means the embeddings were not usable.
  if (asked === 'hybrid' && state.mode === 'lexical') return 'fallback';
  return state.mode;
}

/** A `hybrid` profile ranks with embeddings and lexical alone: no chat model is asked. */
function reranks(deps: SelectionGraphDeps, state: SelectionStateType): boolean {
  const asked = state.profile.selection.mode;
  return deps.rerank !== undefined && asked !== 'lexical' && asked !== 'hybrid';
}

/** Every profile but a `lexical` one ranks with embeddings when they are configured. */
function embeds(deps: SelectionGraphDeps, state: SelectionStateType): boolean {
  return deps.embeddings !== undefined && state.profile.selection.mode !== 'lexical';
}

/** Where a run goes once its needs are known: embed when it ranks with embeddings, else retrieve. */
function afterNeeds(deps: SelectionGraphDeps, state: SelectionStateType): 'embed' | 'retrieve' {
  return embeds(deps, state) ? 'embed' : 'retrieve';
}

/**
 * Pinned tools that the ranking found relevant come first (a pin guarantees a place, not relevance),
 * then the rerank node's choice or the lexical order, cut to the limit. A pinned tool among the
 * lexical candidates keeps its place even when a rerank node left it out.
 */
export function finalize(state: SelectionStateType): CatalogTool[] {
  const byName = new Map(state.candidates.map((entry) => [entry.tool.name, entry.tool]));
  const order = state.chosen ?? state.candidates.map((entry) => entry.tool.name);
  const pinned = state.profile.tools.pinned;
  const picked: CatalogTool[] = [];
  const seen = new Set<string>();
  const take = (name: string) => {
    const tool = byName.get(name);
    if (tool && !seen.has(name) && picked.length < state.limit) {
      seen.add(name);
      picked.push(tool);
    }
  };
  if (pinned.length > 0) {
    const lexical = state.candidates.map((entry) => entry.tool.name);
    for (const name of [...order, ...lexical]) if (matchesAny(name, pinned)) take(name);
  }
  for (const name of order) take(name);
  return picked;
}
