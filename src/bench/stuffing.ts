/**
 * The stuffing bench: for each set of the dev suite, a tool that does nothing but list the set's own
 * request words (stuffed.ts) joins the catalog on its own server, and every query runs through the
 * selection graph as `automatic_mcp` answers it. It reports how often the stuffed tool is in the top 5
 * and first, and Recall@5 with and without it, for automcp, for the same ranker without its defence
 * against broad tools (breadth and floor off), and for plain BM25 — all in the same run.
 */
import type { Profile } from '../config/load.js';
import type { LexicalParameters } from '../selection/lexical.js';
import { runSelectionBench, type QueryHalf, type SelectionReport } from './selection.js';
import {
  RESISTED_WAYS,
  STUFFED_NAME,
  STUFFING_LEGEND,
  STUFFING_WAYS,
  stuffedDataset,
  stuffedDescription,
  type StuffingWay,
} from './stuffed.js';
import { loadSuiteSets, SUITE_SAMPLE } from './suite.js';

/** The ranker before it resisted stuffing: no breadth discount, no floor for broad tools. */
export const UNDEFENDED: Partial<LexicalParameters> = { breadth: Number.POSITIVE_INFINITY, broadFloor: 0 };

/** One ranker on one catalog: Recall@5, and the shares of queries with the stuffed tool in the top 5 and first. */
export interface StuffingCell {
  recall: number;
  top: number;
  first: number;
}

/** One way of stuffing (or none) on one set, for the three rankers. */
export interface StuffingRow {
  way: StuffingWay | 'none';
  automcp: StuffingCell;
  undefended: StuffingCell;
  bm25: StuffingCell;
}

/** One set of the suite. */
export interface StuffingSet {
  label: string;
  queries: number;
  tools: number;
  rows: StuffingRow[];
}

/** Options of {@link runStuffingBench}. */
export interface StuffingOptions {
  datasets: string;
  profile: Profile;
  candidates: number;
  half: QueryHalf;
  sample?: number;
  ways?: readonly StuffingWay[];
  onStep?: (label: string) => void;
}

const K = 5;

/** Runs every set without a stuffed tool and with each way's, under each ranker. */
export async function runStuffingBench(options: StuffingOptions): Promise<StuffingSet[]> {
  const results: StuffingSet[] = [];
  for (const [label, dataset, extra] of await loadSuiteSets(options.datasets)) {
    // The attacker's words: every request of the half measured (the strongest stuffing for it).
    const requests = dataset.queries
      .filter((_, index) => options.half === 'all' || index % 2 === (options.half === 'even' ? 0 : 1))
      .map((query) => query.query);
    const rows: StuffingRow[] = [];
    let tools = 0;
    let queries = 0;
    for (const way of ['none' as const, ...(options.ways ?? STUFFING_WAYS)]) {
      options.onStep?.(`${label} · ${way}`);
      const distractors = way === 'none' ? extra : [...extra, stuffedDataset(stuffedDescription(requests, way), way)];
      const run = (lexical: Partial<LexicalParameters> | undefined, baseline: boolean) =>
        runSelectionBench({
          dataset,
          distractors,
          profile: options.profile,
          ks: [K],
          candidates: options.candidates,
          half: options.half,
          sample: options.sample ?? SUITE_SAMPLE,
          watch: STUFFED_NAME,
          baseline,
          ...(lexical ? { lexical } : {}),
        });
      const automcp = await run(undefined, true);
      const undefended = await run(UNDEFENDED, false);
      tools = way === 'none' ? automcp.tools : tools;
      queries = automcp.queries;
      rows.push({ way, automcp: cell(automcp, false), undefended: cell(undefended, false), bm25: cell(automcp, true) });
    }
    results.push({ label, queries, tools, rows });
  }
  return results;
}

function cell(report: SelectionReport, baseline: boolean): StuffingCell {
  const metrics = baseline ? report.baseline : report.metrics;
  const watched = baseline ? report.watched?.baseline : report.watched;
  return { recall: metrics.find((m) => m.k === K)?.recall ?? 0, top: watched?.top ?? 0, first: watched?.first ?? 0 };
}

/** The largest share of top-5 lists holding a stuffed tool, over every set and resisted way. */
export function worstShare(sets: readonly StuffingSet[], ranker: 'automcp' | 'undefended' | 'bm25'): number {
  const shares = sets.flatMap((set) =>
    set.rows.filter((row) => RESISTED_WAYS.includes(row.way as StuffingWay)).map((row) => row[ranker].top),
  );
  return Math.max(0, ...shares);
}

/** The report as the text table `automcp bench stuffing` prints. */
export function formatStuffing(sets: readonly StuffingSet[], half: QueryHalf): string {
  const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
  const cellText = (c: StuffingCell, way: string) =>
    `${c.recall.toFixed(3).padStart(6)} ${(way === 'none' ? '—' : percent(c.top)).padStart(7)} ${(way === 'none' ? '—' : percent(c.first)).padStart(6)}`;
  const header = `${'R@5'.padStart(6)} ${'top 5'.padStart(7)} ${'first'.padStart(6)}`;
  const lines: string[] = [
    `stuffed tool ${STUFFED_NAME}, built from the requests of the ${half} half of each set; Recall@${K}, share of queries with it in the top ${K} / first`,
    ...Object.entries(STUFFING_LEGEND).map(([way, text]) => `  ${way.padEnd(11)} ${text}`),
    '',
  ];
  for (const set of sets) {
    lines.push(
      `${set.label} · ${set.tools} tools · ${set.queries} queries (${half})`,
      `${''.padEnd(12)}  ${'automcp'.padEnd(21)}  ${'without breadth'.padEnd(21)}  plain BM25`,
      `${'way'.padEnd(12)}  ${header}  ${header}  ${header}`,
      ...set.rows.map(
        (row) =>
          `${(row.way === 'none' ? 'no stuffing' : row.way).padEnd(12)}  ${cellText(row.automcp, row.way)}  ${cellText(row.undefended, row.way)}  ${cellText(row.bm25, row.way)}`,
      ),
      '',
    );
  }
  lines.push(
    `most top-${K} lists with a stuffed tool (${RESISTED_WAYS.join(', ')}; any set): automcp ${percent(worstShare(sets, 'automcp'))} · without breadth ${percent(worstShare(sets, 'undefended'))} · plain BM25 ${percent(worstShare(sets, 'bm25'))}`,
  );
  return `${lines.join('\n')}\n`;
}
