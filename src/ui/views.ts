/**
 * What the dashboard's pages show, computed from run traces: one run's lexical ranking beside the
 * model's choice and reasons (the rows `automcp runs show` prints), and the savings series — tokens a
 * caller was sent by `automatic_mcp` against what its whole catalog would have cost. Pure functions of
 * records, so they are tested without a browser.
 */
import type { SelectionTrace, TraceRecord } from '../traces/record.js';

/** One row of a selection's explanation: rank, lexical candidate and score, the model's pick and reason. */
export interface RankingRow {
  rank: number;
  lexical?: { name: string; score: number; selected: boolean };
  choice?: { name: string; reason: string };
}

/** The rows of a selection as `automcp runs show` lays them out (see cli/explain.ts `explainRanking`). */
export function rankingRows(run: SelectionTrace): RankingRow[] {
  // The rows the model saw (or, without a model, the ranking that stood), best lexical first.
  const shown = run.candidates.slice(0, Math.max(run.llm?.candidates ?? 0, run.request.limit));
  const chosen = run.llm?.chosen ?? [];
  const selected = new Set(run.chosen);
  const rows: RankingRow[] = [];
  for (let index = 0; index < Math.max(shown.length, chosen.length); index++) {
    const entry = shown[index];
    const choice = chosen[index];
    rows.push({
      rank: index + 1,
      ...(entry
        ? { lexical: { name: entry.name, score: Math.round(entry.score * 100) / 100, selected: selected.has(entry.name) } }
        : {}),
      ...(choice ? { choice } : {}),
    });
  }
  return rows;
}

/** One time bucket of the savings chart. */
export interface SavingsBucket {
  /** Start of the bucket (ISO 8601). */
  start: string;
  selections: number;
  /** Tokens `automatic_mcp` sent in the bucket. */
  sent: number;
  /** What the caller's full catalog would have cost at each of those selections, summed. */
  catalog: number;
  /** Tools answered names-only (the caller already held the definition). */
  namesOnly: number;
}

/** The savings page: buckets over time and the totals. */
export interface Savings {
  bucketMs: number;
  buckets: SavingsBucket[];
  totals: { selections: number; counted: number; sent: number; catalog: number; namesOnly: number; full: number };
}

/** Bucket widths tried in turn, smallest first, until the span fits in `maxBuckets`. */
const WIDTHS_MS = [60_000, 300_000, 900_000, 3_600_000, 6 * 3_600_000, 86_400_000, 7 * 86_400_000];

/**
 * Sums the selections of `records` (any order) into time buckets, at most `maxBuckets` of them.
 * Records without token counts (written before they were recorded) count for selections and
 * names-only hits, not for tokens; `counted` says how many had them.
 */
export function savingsSeries(records: readonly TraceRecord[], maxBuckets = 48): Savings {
  const selections = records
    .filter((record): record is SelectionTrace => record.kind === 'selection')
    .map((record) => ({ record, at: Date.parse(record.time) }))
    .sort((a, b) => a.at - b.at);
  const totals = { selections: selections.length, counted: 0, sent: 0, catalog: 0, namesOnly: 0, full: 0 };
  if (selections.length === 0) return { bucketMs: WIDTHS_MS[0]!, buckets: [], totals };
  const first = selections[0]!.at;
  const span = selections[selections.length - 1]!.at - first;
  const bucketMs = WIDTHS_MS.find((width) => span / width < maxBuckets) ?? WIDTHS_MS[WIDTHS_MS.length - 1]!;
  const origin = Math.floor(first / bucketMs) * bucketMs;
  const buckets = new Map<number, SavingsBucket>();
  for (const { record, at } of selections) {
    const index = Math.floor((at - origin) / bucketMs);
    let bucket = buckets.get(index);
    if (!bucket) {
      bucket = { start: new Date(origin + index * bucketMs).toISOString(), selections: 0, sent: 0, catalog: 0, namesOnly: 0 };
      buckets.set(index, bucket);
    }
    bucket.selections++;
    bucket.namesOnly += record.sent.unchanged;
    totals.namesOnly += record.sent.unchanged;
    totals.full += record.sent.full;
    if (record.tokens?.catalog !== undefined) {
      bucket.sent += record.tokens.sent;
      bucket.catalog += record.tokens.catalog;
      totals.sent += record.tokens.sent;
      totals.catalog += record.tokens.catalog;
      totals.counted++;
    }
  }
  return { bucketMs, buckets: [...buckets.entries()].sort(([a], [b]) => a - b).map(([, bucket]) => bucket), totals };
}
