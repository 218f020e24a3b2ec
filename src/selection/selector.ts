/**
 * The selector: runs the selection graph over the current catalog. Each caller view gets its own lexical
 * index, so term statistics come only from tools the caller may see (hidden tools neither shift the
 * ranking nor leak through it). When the catalog version moves, a profile's new view gets an index
 * derived from its previous one, re-reading only the servers whose tools changed, so a list change
 * costs one server's worth of indexing per profile, not a rebuild and not one per call.
 */
import type { Profile } from '../config/load.js';
import type { Catalog } from '../catalog/catalog.js';
import type { CallerView, CallerViews } from '../catalog/view.js';
import type { CatalogTool } from '../catalog/types.js';
import { createSelectionGraph, type LlmTrace, type RerankNode, type SelectionGraph, type SelectionMode } from './graph.js';
import type { EmbeddingsStage } from './hybrid.js';
import { LexicalIndex, type LexicalParameters, type RankedTool } from './lexical.js';
import type { Learner } from '../learning/learner.js';
import { mergeEvidence } from '../learning/rank.js';

/** One selection request. */
export interface SelectionRequest {
  query: string;
  profile: Profile;
  limit: number;
  /** The caller's request: when it is cancelled the run stops, model call included, and `select` rejects. */
  signal?: AbortSignal;
}

/** What the graph chose. */
export interface Selection {
  mode: SelectionMode;
  tools: CatalogTool[];
  /** The ranking retrieve handed on, best first (what the LLM node chose from): lexical, or fused with embeddings. */
  candidates: RankedTool[];
  view: CallerView;
  /** What the LLM node did; absent when no model took part. */
  llm?: LlmTrace;
}

/** Chooses tools for a task. One implementation runs the LangGraph graph; tests may supply others. */
export interface Selector {
  select(request: SelectionRequest): Promise<Selection>;
  /** The lexical index over a caller's view (also used for "did you mean"). */
  indexFor(view: CallerView): LexicalIndex;
}

/** The graph-backed selector. */
export class GraphSelector implements Selector {
  readonly #catalog: Catalog;
  readonly #candidates: number;
  readonly #graph: SelectionGraph;
  readonly #indexes = new WeakMap<CallerView, LexicalIndex>();
  /** The newest index of each profile's view, the base for the next catalog version's. */
  readonly #latest = new Map<string, LexicalIndex>();
  readonly #learner: Learner | undefined;
  readonly #lexical: Partial<LexicalParameters> | undefined;

  constructor(options: {
    catalog: Catalog;
    views: CallerViews;
    candidates: number;
    rerank?: RerankNode;
    /** The decompose node (decompose.ts); runs only before a rerank. */
    decompose?: RerankNode;
    /** The embeddings stage (hybrid.ts): rankings fused with the ranking by meaning. */
    embeddings?: EmbeddingsStage;
    learner?: Learner;
    /** Ranking parameters other than the defaults (benchmarks compare rankers with it). */
    lexical?: Partial<LexicalParameters>;
  }) {
    this.#catalog = options.catalog;
    this.#lexical = options.lexical;
    this.#candidates = options.candidates;
    const learner = (this.#learner = options.learner);
    this.#graph = createSelectionGraph({
      viewFor: (profile) => options.views.forProfile(profile),
      indexFor: (view) => this.indexFor(view),
      ...(options.rerank ? { rerank: options.rerank } : {}),
      ...(options.rerank && options.decompose ? { decompose: options.decompose } : {}),
      ...(options.embeddings ? { embeddings: options.embeddings } : {}),
      ...(learner
        ? {
            learned: ({ query, profile, view, candidates, limit }) => {
              const visible = { size: view.tools.length, visible: (name: string) => view.get(name) !== undefined };
              const scores = learner.scores(profile, query, visible);
              return mergeEvidence({ candidates, scores, view, limit, weight: learner.settings.weight });
            },
          }
        : {}),
    });
  }

  indexFor(view: CallerView): LexicalIndex {
    let index = this.#indexes.get(view);
    if (!index) {
      const previous = this.#latest.get(view.key);
      const servers = this.#catalog.servers();
      index = previous
        ? previous.updated(view.tools, servers)
        : new LexicalIndex(view.tools, servers, this.#lexical ? { parameters: this.#lexical } : {});
      this.#latest.set(view.key, index);
      this.#indexes.set(view, index);
    }
    return index;
  }

  async select(request: SelectionRequest): Promise<Selection> {
    await this.#learner?.prepare(request.profile);
    const state = await this.#graph.invoke(
      { query: request.query, profile: request.profile, limit: request.limit, candidateCount: this.#candidates },
      request.signal ? { signal: request.signal } : {},
    );
    return {
      mode: state.mode,
      tools: state.selected,
      candidates: state.candidates,
      view: state.view,
      ...(state.llm ? { llm: state.llm } : {}),
    };
  }
}
