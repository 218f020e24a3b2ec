/**
 * "Did you mean" for unknown tool names, drawn only from what the caller may use — a suggestion must
 * never reveal a tool outside the profile. Close spellings come first (edit distance on the tool part),
 * then lexical matches of the name's words.
 */
import type { CallerView } from '../catalog/view.js';
import type { LexicalIndex } from '../selection/lexical.js';

/** Up to `limit` visible names close to `name`. */
export function suggestNames({
  name,
  view,
  index,
  limit = 3,
}: {
  name: string;
  view: CallerView;
  index: LexicalIndex;
  limit?: number;
}): string[] {
  const wanted = name.toLowerCase();
  const close = view.tools
    .map((tool) => {
      const distance = Math.min(editDistance(wanted, tool.name.toLowerCase()), editDistance(wanted, tool.tool.toLowerCase()));
      return { name: tool.name, distance };
    })
    .filter((entry) => entry.distance <= Math.max(2, Math.floor(wanted.length / 4)))
    .sort((a, b) => a.distance - b.distance)
    .map((entry) => entry.name);
  const lexical = index
    .search(name, { limit: limit * 2, allowed: (tool) => view.get(tool.name) !== undefined })
    .map((entry) => entry.tool.name);
  return [...new Set([...close, ...lexical])].slice(0, limit);
}

/** Levenshtein distance, two rows. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
