/**
 * What one profile has learned from use: for each (request term, tool) pair a weight that grows when an
 * agent ran the tool after asking with that term, and halves every `halfLifeMs` after its last change.
 * Only terms and counts are kept, never a request's text. The table is bounded: beyond `maxEntries`
 * pairs the least recently changed one goes first.
 *
 * Scoring treats a tool's evidence terms as one more field of the tool, scored BM25-like against the
 * query's terms (saturating in the weight, rarer terms counting more), so a flood of one term cannot
 * outweigh everything else and a term that every tool has evidence for says little.
 */

/** One (term, tool) pair: `weight` as it was at `at` (ms since the epoch), decaying from there. */
export interface EvidenceEntry {
  term: string;
  tool: string;
  weight: number;
  at: number;
}

/** Weights below this are treated as gone (about seven half-lives after a single use). */
export const NEGLIGIBLE_WEIGHT = 0.01;

/** A term's evidence counts fully only once it has about this much weight behind it. */
const CONFIDENCE = 1;

/** The weight of `entry` at `now`. */
export function decayed(entry: { weight: number; at: number }, now: number, halfLifeMs: number): number {
  const age = Math.max(0, now - entry.at);
  return entry.weight * 2 ** (-age / halfLifeMs);
}

/** One profile's evidence table. */
export class EvidenceTable {
  readonly #halfLifeMs: number;
  readonly #maxEntries: number;
  /** Keyed `tool\tterm`; Map order is the recency of the last change (oldest first). */
  #entries = new Map<string, EvidenceEntry>();
  /**
   * term → tool → weight scaled to `#epoch` (weight × 2^((at − epoch) / halfLife)): every pair then
   * decays by the same factor, so scoring computes one power per query instead of one per pair.
   */
  #byTerm = new Map<string, Map<string, number>>();
  /** term → sum of its scaled weights. */
  #totals = new Map<string, number>();
  #epoch: number | undefined;

  constructor(options: { halfLifeMs: number; maxEntries: number }) {
    this.#halfLifeMs = options.halfLifeMs;
    this.#maxEntries = options.maxEntries;
  }

  /** Number of (term, tool) pairs held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Adds `amount` to the pair's decayed weight at `now`; the pair becomes the most recent. */
  add(term: string, tool: string, amount: number, now: number): void {
    const key = `${tool}\t${term}`;
    const entry = this.#entries.get(key);
    const weight = (entry ? decayed(entry, now, this.#halfLifeMs) : 0) + amount;
    this.#put({ term, tool, weight, at: now });
  }

  /** Replaces the whole table (a snapshot from the state file or Redis), oldest first. */
  replace(entries: Iterable<EvidenceEntry>): void {
    this.#entries = new Map();
    this.#byTerm = new Map();
    this.#totals = new Map();
    this.#epoch = undefined;
    for (const entry of entries) this.#put(entry);
  }

  /** Every pair, least recently changed first (the order `replace` keeps). */
  entries(): EvidenceEntry[] {
    return [...this.#entries.values()];
  }

  /** Forgets one tool's evidence, or everything. Returns the number of pairs removed. */
  forget(tool?: string): number {
    if (tool === undefined) {
      const removed = this.#entries.size;
      this.replace([]);
      return removed;
    }
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.tool !== tool) continue;
      this.#delete(key, entry);
      removed += 1;
    }
    return removed;
  }

  /**
   * Evidence score of each tool that `visible` accepts and that has evidence for a term of `queryTerms`.
   * `toolCount` (the caller's view size) sets how rare a term is among tools.
   */
  score(
    queryTerms: readonly string[],
    options: { now: number; toolCount: number; visible: (tool: string) => boolean },
  ): Map<string, number> {
    const scores = new Map<string, number>();
    if (this.#entries.size === 0 || this.#epoch === undefined) return scores;
    const factor = 2 ** (-(options.now - this.#epoch) / this.#halfLifeMs);
    const distinct = [...new Set(queryTerms)];
    for (const term of distinct) {
      const tools = this.#byTerm.get(term);
      const scaled = this.#totals.get(term) ?? 0;
      const total = scaled * factor;
      if (!tools || total < NEGLIGIBLE_WEIGHT) continue;
      // Tools share the term by weight; a term with little evidence behind it counts less.
      const share = total / (total + CONFIDENCE) / scaled / distinct.length;
      for (const [tool, weight] of tools) {
        if (weight * factor < NEGLIGIBLE_WEIGHT || !options.visible(tool)) continue;
        scores.set(tool, (scores.get(tool) ?? 0) + weight * share);
      }
    }
    return scores;
  }

  /** Per tool: its decayed total weight and its strongest terms, strongest tools first. */
  summary(now: number, topTerms = 8): { tool: string; weight: number; terms: { term: string; weight: number }[] }[] {
    const byTool = new Map<string, { term: string; weight: number }[]>();
    for (const entry of this.#entries.values()) {
      const weight = decayed(entry, now, this.#halfLifeMs);
      if (weight < NEGLIGIBLE_WEIGHT) continue;
      let list = byTool.get(entry.tool);
      if (!list) byTool.set(entry.tool, (list = []));
      list.push({ term: entry.term, weight });
    }
    return [...byTool]
      .map(([tool, list]) => ({
        tool,
        weight: list.reduce((sum, item) => sum + item.weight, 0),
        terms: list.sort((a, b) => b.weight - a.weight || a.term.localeCompare(b.term)).slice(0, topTerms),
      }))
      .sort((a, b) => b.weight - a.weight || a.tool.localeCompare(b.tool));
  }

  #put(entry: EvidenceEntry): void {
    const key = `${entry.tool}\t${entry.term}`;
    // Delete first so the Map's order moves this pair to the most recent end.
    const previous = this.#entries.get(key);
    if (previous) this.#delete(key, previous);
    this.#entries.set(key, entry);
    this.#epoch ??= entry.at;
    // Far from the epoch the scaled weights would overflow (or vanish): move the epoch to now.
    if (Math.abs(entry.at - this.#epoch) / this.#halfLifeMs > 500) this.#rebase(entry.at);
    this.#index(entry);
    while (this.#entries.size > this.#maxEntries) {
      const [oldestKey, oldest] = this.#entries.entries().next().value as [string, EvidenceEntry];
      this.#delete(oldestKey, oldest);
    }
  }

  #index(entry: EvidenceEntry): void {
    const scaled = entry.weight * 2 ** ((entry.at - this.#epoch!) / this.#halfLifeMs);
    let tools = this.#byTerm.get(entry.term);
    if (!tools) this.#byTerm.set(entry.term, (tools = new Map()));
    tools.set(entry.tool, scaled);
    this.#totals.set(entry.term, (this.#totals.get(entry.term) ?? 0) + scaled);
  }

  #rebase(epoch: number): void {
    this.#epoch = epoch;
    this.#byTerm = new Map();
    this.#totals = new Map();
    for (const entry of this.#entries.values()) this.#index(entry);
  }

  #delete(key: string, entry: EvidenceEntry): void {
    this.#entries.delete(key);
    const tools = this.#byTerm.get(entry.term);
    const scaled = tools?.get(entry.tool);
    tools?.delete(entry.tool);
    if (!tools || tools.size === 0) {
      this.#byTerm.delete(entry.term);
      this.#totals.delete(entry.term);
    } else if (scaled !== undefined) {
      this.#totals.set(entry.term, (this.#totals.get(entry.term) ?? 0) - scaled);
    }
  }
}
