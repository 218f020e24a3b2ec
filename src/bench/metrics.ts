/**
 * Selection metrics of CONTRACT §5, per query and averaged, plus the percentiles the benchmarks print.
 * Each inner list of `expected` is one required tool; any name in it is a hit for it.
 */
import { splitQualifiedName } from '../catalog/naming.js';

/** Share of required tools with a hit among the first `k` selected names. */
export function recallAt(selected: readonly string[], expected: readonly (readonly string[])[], k: number): number {
  if (expected.length === 0) return 1;
  const top = new Set(selected.slice(0, k));
  return expected.filter((alternatives) => alternatives.some((name) => top.has(name))).length / expected.length;
}

/** 1 when every required tool has a hit among the first `k`, else 0. */
export function completeAt(selected: readonly string[], expected: readonly (readonly string[])[], k: number): number {
  return recallAt(selected, expected, k) === 1 ? 1 : 0;
}

/** Share of required tools whose server is among the servers of the first `k` selected names. */
export function serverRecallAt(selected: readonly string[], expected: readonly (readonly string[])[], k: number): number {
  if (expected.length === 0) return 1;
  const servers = new Set(selected.slice(0, k).map(serverOf));
  return expected.filter((alternatives) => alternatives.some((name) => servers.has(serverOf(name)))).length / expected.length;
}

function serverOf(name: string): string {
  return splitQualifiedName(name)?.server ?? name;
}

/** The `p`-th percentile (0–100, nearest rank) of `values`; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Running sums of the per-query metrics at each k. */
export class RecallTally {
  readonly #ks: readonly number[];
  readonly #recall: number[];
  readonly #complete: number[];
  readonly #server: number[];
  #queries = 0;

  constructor(ks: readonly number[]) {
    this.#ks = ks;
    this.#recall = ks.map(() => 0);
    this.#complete = ks.map(() => 0);
    this.#server = ks.map(() => 0);
  }

  /** Adds one query's selection. */
  add(selected: readonly string[], expected: readonly (readonly string[])[]): void {
    this.#queries += 1;
    this.#ks.forEach((k, index) => {
      this.#recall[index]! += recallAt(selected, expected, k);
      this.#complete[index]! += completeAt(selected, expected, k);
      this.#server[index]! += serverRecallAt(selected, expected, k);
    });
  }

  /** Number of queries added. */
  get queries(): number {
    return this.#queries;
  }

  /** Means per k (0 when no query was added). */
  summary(): { k: number; recall: number; complete: number; serverRecall: number }[] {
    const n = Math.max(this.#queries, 1);
    return this.#ks.map((k, index) => ({
      k,
      recall: this.#recall[index]! / n,
      complete: this.#complete[index]! / n,
      serverRecall: this.#server[index]! / n,
    }));
  }
}
