/**
 * The embeddings stage of the selection graph (`selector.embeddings`): the embed node turns the request
 * (and each need the decompose node stated) into vectors, and retrieve fuses, for each of them, the
 * lexical ranking with the ranking by cosine similarity to the tool vectors (vectors.ts).
 *
 * Fusion is weighted reciprocal rank fusion: a tool scores Σ weight / (RRF_K + rank) over the rankings
 * it appears in. Ranks, not scores, because BM25 scores and cosine similarities live on scales that
 * no fixed weighting can line up across catalogs; RRF_K = 60 is the value of the original paper. The
 * weight of the embeddings ranking was chosen on the even half of each dev set: of 0.5, 0.75, 1 and 1.5,
 * the best that left no set worse than the lexical ranking (docs/benchmarks.md).
 *
 * The node is bounded like the model nodes: until every tool the caller sees has a vector, or during an
 * outage, or when the call fails or is late, it gives no vectors and retrieve ranks lexically — on time.
 */
import type { CatalogTool } from '../catalog/types.js';
import type { RerankNode, RerankOptions, SelectionStateType, SelectionStateUpdate } from './graph.js';
import type { RankedTool } from './lexical.js';
import type { ToolVectors } from './vectors.js';

/** The rank offset of reciprocal rank fusion. */
export const RRF_K = 60;
/** Weight of the embeddings ranking against the lexical ranking's 1 (measured; see the file comment). */
export const EMBEDDINGS_WEIGHT = 0.75;

/** One ranking to fuse, with its weight. */
export interface WeightedRanking {
  ranked: readonly RankedTool[];
  weight: number;
}

/** Weighted reciprocal rank fusion of `rankings`, best first, at most `limit`; `score` is the fused score. */
export function fuseRankings(rankings: readonly WeightedRanking[], limit: number): RankedTool[] {
  const fused = new Map<string, { tool: CatalogTool; score: number; first: number }>();
  let order = 0;
  for (const { ranked, weight } of rankings) {
    ranked.forEach((entry, rank) => {
      const seen = fused.get(entry.tool.name);
      const add = weight / (RRF_K + rank + 1);
      if (seen) seen.score += add;
      else fused.set(entry.tool.name, { tool: entry.tool, score: add, first: order++ });
    });
  }
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.first - b.first)
    .slice(0, limit)
    .map(({ tool, score }) => ({ tool, score }));
}

/** What the graph takes from the embeddings stage. */
export interface EmbeddingsStage {
  /** The embed node: query vectors into the state, or nothing (retrieve then ranks lexically). */
  embed: RerankNode;
  /** Retrieve's fusion of one text's lexical ranking with its ranking by meaning. */
  fuse(input: {
    tools: readonly CatalogTool[];
    lexical: readonly RankedTool[];
    vector: Float32Array;
    limit: number;
  }): RankedTool[];
}

/** Builds the embeddings stage over `vectors`; `weight` overrides {@link EMBEDDINGS_WEIGHT} (benchmarks). */
export function createEmbeddingsStage({
  vectors,
  weight = EMBEDDINGS_WEIGHT,
}: {
  vectors: ToolVectors;
  weight?: number;
}): EmbeddingsStage {
  return {
    embed: async (state: SelectionStateType, options: RerankOptions = {}): Promise<SelectionStateUpdate> => {
      // Until every visible tool has a vector the ranking stays lexical: a partial one would bury the
      // tools still waiting for theirs. Reading the cache file is waited for; embedding never is.
      await vectors.loaded();
      if (!vectors.covers(state.view.tools)) return { queryVectors: undefined, embeddingsError: undefined };
      const texts = [state.query, ...(state.needs ?? [])];
      const answer = await vectors.embedQueries(texts, options.signal);
      return { queryVectors: answer.vectors, embeddingsError: answer.error };
    },
    fuse: ({ tools, lexical, vector, limit }) =>
      // An infinite weight is the ranking by meaning alone (benchmarks compare it).
      !Number.isFinite(weight)
        ? vectors.rank(tools, vector, limit)
        : fuseRankings(
            [
              { ranked: lexical, weight: 1 },
              { ranked: vectors.rank(tools, vector, limit), weight },
            ],
            limit,
          ),
  };
}
