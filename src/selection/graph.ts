/**
 * Tool selection as a LangGraph `StateGraph`: scope → retrieve → [rerank] → finalize.
 *
 * - scope: the caller's profile narrows the catalog before anything is ranked (CONTRACT §2).
 * - retrieve: the lexical ranker proposes up to `candidates` tools from that scope.
 * - rerank (optional): a node that may reorder or cut the candidates — the LLM node of llm.ts, which
 *   reads the task and the caller's profile. It writes `chosen`, `mode` and its trace; without it, when
 *   the profile's `selection.mode` is `lexical`, or when it gives nothing usable, finalize keeps the
 *   lexical order.
 * - finalize: pinned tools first, then the ranking, cut to the limit.
 */
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import type { Profile } from '../config/load.js';
import { matchesAny } from '../catalog/glob.js';
import type { CallerView } from '../catalog/view.js';
import type { CatalogTool } from '../catalog/types.js';
import type { LexicalIndex, RankedTool } from './lexical.js';

/** How the tools were chosen (CONTRACT §1). */
export type SelectionMode = 'llm' | 'lexical' | 'fallback';

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
  /** Token usage the provider reported (LangChain `usage_metadata`). */
  usage?: { inputTokens: number; outputTokens: number; totalTokens: number };
  /** Why the answer was not used; set exactly when the run fell back to the lexical ranking. */
  error?: string;
}

/** The graph's state; each node returns the part it writes. */
export const SelectionState = Annotation.Root({
  query: Annotation<string>(),
  profile: Annotation<Profile>(),
  limit: Annotation<number>(),
  /** How many lexical candidates retrieve hands on. */
  candidateCount: Annotation<number>(),
  view: Annotation<CallerView>(),
  candidates: Annotation<RankedTool[]>(),
  /** Qualified names a rerank node chose, in its order; undefined keeps the lexical order. */
  chosen: Annotation<string[] | undefined>(),
  mode: Annotation<SelectionMode>(),
  /** The LLM node's trace; undefined when no model took part. */
  llm: Annotation<LlmTrace | undefined>(),
  selected: Annotation<CatalogTool[]>(),
});

/** The full state a node reads. */
export type SelectionStateType = typeof SelectionState.State;
/** The partial state a node returns. */
export type SelectionStateUpdate = typeof SelectionState.Update;

/** A node that may sit between retrieve and finalize. */
export type RerankNode = (state: SelectionStateType) => Promise<SelectionStateUpdate>;

/** What the graph needs from outside: the caller's view and the lexical index of the catalog. */
export interface SelectionGraphDeps {
  viewFor(profile: Profile): CallerView;
  indexFor(view: CallerView): LexicalIndex;
  rerank?: RerankNode;
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
  invoke(input: SelectionInput): Promise<SelectionStateType>;
}

/** Compiles the selection graph. */
export function createSelectionGraph(deps: SelectionGraphDeps): SelectionGraph {
  const graph = new StateGraph(SelectionState)
    .addNode('scope', (state: SelectionStateType) => ({ view: deps.viewFor(state.profile) }))
    .addNode('retrieve', (state: SelectionStateType) => {
      const k = Math.max(state.candidateCount, state.limit);
      const index = deps.indexFor(state.view);
      let candidates = index.search(state.query, { limit: k });
      if (deps.learned) candidates = deps.learned({ ...state, index, candidates, limit: k });
      return { candidates, mode: 'lexical' as const, chosen: undefined, llm: undefined };
    })
    .addNode('rerank', async (state: SelectionStateType) => (deps.rerank ? deps.rerank(state) : {}))
    .addNode('finalize', (state: SelectionStateType) => ({ selected: finalize(state) }))
    .addEdge(START, 'scope')
    .addEdge('scope', 'retrieve')
    // Without a rerank node, or when the profile insists on the lexical ranking (selection.mode:
    // lexical), no model is asked and the step is skipped: every graph step costs LangGraph about
    // 0.5 ms and 20 KB of bookkeeping that only a full garbage collection frees.
    .addConditionalEdges('retrieve', (state: SelectionStateType) => (reranks(deps, state) ? 'rerank' : 'finalize'), [
      'rerank',
      'finalize',
    ])
    .addEdge('rerank', 'finalize')
    .addEdge('finalize', END);
  const compiled = graph.compile();
  return { invoke: (input) => compiled.invoke(input) };
}

function reranks(deps: SelectionGraphDeps, state: SelectionStateType): boolean {
  return deps.rerank !== undefined && state.profile.selection.mode !== 'lexical';
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
