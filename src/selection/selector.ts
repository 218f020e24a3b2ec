/**
 * The selector: runs the selection graph over the current catalog. The lexical index is rebuilt lazily
 * when the catalog version moves, so a list change costs one rebuild, not one per call.
 */
import type { Profile } from '../config/load.js';
import type { Catalog } from '../catalog/catalog.js';
import type { CallerView, CallerViews } from '../catalog/view.js';
import type { CatalogTool } from '../catalog/types.js';
import { createSelectionGraph, type RerankNode, type SelectionMode } from './graph.js';
import { LexicalIndex, type RankedTool } from './lexical.js';

/** One selection request. */
export interface SelectionRequest {
  query: string;
  profile: Profile;
  limit: number;
}

/** What the graph chose. */
export interface Selection {
  mode: SelectionMode;
  tools: CatalogTool[];
  candidates: RankedTool[];
  view: CallerView;
}

/** Chooses tools for a task. One implementation runs the LangGraph graph; tests may supply others. */
export interface Selector {
  select(request: SelectionRequest): Promise<Selection>;
  /** The lexical index of the current catalog (also used for "did you mean"). */
  index(): LexicalIndex;
}

/** The graph-backed selector. */
export class GraphSelector implements Selector {
  readonly #catalog: Catalog;
  readonly #candidates: number;
  readonly #graph: ReturnType<typeof createSelectionGraph>;
  #index: { version: number; index: LexicalIndex } | undefined;

  constructor(options: { catalog: Catalog; views: CallerViews; candidates: number; rerank?: RerankNode }) {
    this.#catalog = options.catalog;
    this.#candidates = options.candidates;
    this.#graph = createSelectionGraph({
      viewFor: (profile) => options.views.forProfile(profile),
      index: () => this.index(),
      ...(options.rerank ? { rerank: options.rerank } : {}),
    });
  }

  index(): LexicalIndex {
    const version = this.#catalog.version;
    if (this.#index?.version !== version) {
      this.#index = { version, index: new LexicalIndex(this.#catalog.tools(), this.#catalog.servers()) };
    }
    return this.#index.index;
  }

  async select(request: SelectionRequest): Promise<Selection> {
    const state = await this.#graph.invoke({
      query: request.query,
      profile: request.profile,
      limit: request.limit,
      candidateCount: this.#candidates,
    });
    return { mode: state.mode, tools: state.selected, candidates: state.candidates, view: state.view };
  }
}
