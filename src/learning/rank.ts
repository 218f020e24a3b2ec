/**
 * Learned evidence in the ranking: a tool's past request terms are one more scored field, added to its
 * lexical score. Tools with evidence for the query are re-scored (lexical score + weight × evidence
 * score) and merged into the lexical candidates; every other candidate keeps its place relative to the
 * others, so without evidence for the query the ranking is exactly the lexical one.
 */
import type { CallerView } from '../catalog/view.js';
import type { RankedTool } from '../selection/lexical.js';

/** The lexical candidates with the evidence of `scores` merged in, cut to `limit`. */
export function mergeEvidence({
  candidates,
  scores,
  view,
  limit,
  weight,
}: {
  candidates: readonly RankedTool[];
  /** Evidence score per qualified name (visible tools only). */
  scores: ReadonlyMap<string, number> | undefined;
  view: CallerView;
  limit: number;
  weight: number;
}): RankedTool[] {
  if (!scores || scores.size === 0 || weight <= 0) return [...candidates];
  // A tool with evidence that the lexical cut left out comes in with no lexical score: looking its score
  // up would cost a second pass over the query's postings, and the replay measured no recall in it.
  const lexical = new Map(candidates.map((entry) => [entry.tool.name, entry.score]));
  // The evidence score is a share of the query (0–1); the best lexical score gives it its scale.
  const scale = weight * (candidates[0]?.score ?? 1);
  const boosted: RankedTool[] = [];
  for (const [name, evidence] of scores) {
    const tool = view.get(name);
    if (tool) boosted.push({ tool, score: (lexical.get(name) ?? 0) + scale * evidence });
  }
  boosted.sort((a, b) => b.score - a.score || (a.tool.name < b.tool.name ? -1 : 1));
  const rest = candidates.filter((entry) => !scores.has(entry.tool.name));
  const merged: RankedTool[] = [];
  let i = 0;
  let j = 0;
  while (merged.length < limit && (i < rest.length || j < boosted.length)) {
    const next = rest[i];
    const lifted = boosted[j];
    if (lifted && (!next || lifted.score > next.score)) {
      merged.push(lifted);
      j += 1;
    } else {
      merged.push(next!);
      i += 1;
    }
  }
  return merged;
}
