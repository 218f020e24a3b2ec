/**
 * The replay benchmark of learning from use (`automcp bench selection --replay`). A dataset's queries
 * are put in a fixed shuffled order (seeded); the first half is fed as use — the agent sends each
 * request (or, where the dataset has them, each of its `needs`) through `automatic_mcp` and then runs
 * one labelled tool of each required group in the same session, which reaches the learner exactly as a
 * successful `automatic_eval` does. The second half is then ranked twice, without and with what was
 * learned, and scored by Recall@k; the same for the second-half queries none of whose tools received
 * any evidence, which learning must not hurt.
 */
import { loadHasher } from '../catalog/hash.js';
import { CallerViews } from '../catalog/view.js';
import type { Profile } from '../config/load.js';
import { DownstreamRegistry } from '../downstream/registry.js';
import { ArgumentValidator } from '../gateway/arguments.js';
import { GatewayCore, type CallerContext } from '../gateway/core.js';
import { Learner, type LearningSettings } from '../learning/learner.js';
import { createSilentLogger } from '../logging/logger.js';
import { GraphSelector } from '../selection/selector.js';
import { MemorySessionStore } from '../session/memory.js';
import { catalogOf, type Dataset, type DatasetQuery } from './dataset.js';
import { percentile, recallAt } from './metrics.js';

/** Options of {@link runReplayBench}. */
export interface ReplayOptions {
  dataset: Dataset;
  distractors?: readonly Dataset[];
  profile: Profile;
  candidates: number;
  /** The cut-off of Recall@k, and the automatic_mcp limit (default 5). */
  k?: number;
  /** Seed of the shuffle (default 1). */
  seed?: number;
  /** Replay only this many queries (shuffled first, then halved). */
  sample?: number;
  learning?: Partial<LearningSettings>;
  onProgress?: (done: number, total: number) => void;
}

/** Recall of one group of second-half queries, without and with learning. */
export interface ReplayRecall {
  queries: number;
  without: number;
  with: number;
}

/** What the replay measured for one dataset. */
export interface ReplayReport {
  dataset: { name: string; file: string };
  distractors: { name: string; file: string }[];
  tools: number;
  k: number;
  seed: number;
  /** First-half queries fed as use, and the automatic_mcp requests they made. */
  fed: { queries: number; requests: number; usedTools: number; pairs: number };
  /** Every second-half query. */
  all: ReplayRecall;
  /** Second-half queries at least one of whose tools received evidence. */
  withEvidence: ReplayRecall;
  /** Second-half queries none of whose tools received evidence: learning must not lower this. */
  noEvidence: ReplayRecall;
  /** Selection latency over the second half, without and with learning (the same queries, interleaved). */
  latencyMs: { without: { p50: number; p95: number }; with: { p50: number; p95: number } };
}

/** Replays one dataset. */
export async function runReplayBench(options: ReplayOptions): Promise<ReplayReport> {
  const { dataset, profile } = options;
  const k = options.k ?? 5;
  const seed = options.seed ?? 1;
  // Distractor servers that the dataset itself has are already in the catalog.
  const own = new Set(dataset.servers.map((server) => server.name));
  const distractors = (options.distractors ?? []).map((entry) => ({
    ...entry,
    servers: entry.servers.filter((server) => !own.has(server.name)),
  }));
  const hasher = await loadHasher();
  const catalog = catalogOf({ datasets: [dataset, ...distractors], hasher });
  const views = new CallerViews({ catalog, hasher });
  const logger = createSilentLogger();
  const learner = new Learner({ settings: options.learning ?? {}, session: { ttlSeconds: 3600, maxSessions: 10_000 } });
  const selector = new GraphSelector({ catalog, views, candidates: options.candidates, learner });
  const core = new GatewayCore({
    catalog,
    views,
    selector,
    sessions: new MemorySessionStore({ ttlSeconds: 3600, maxSessions: 10_000 }),
    registry: new DownstreamRegistry({ servers: [], catalog, logger, transports: noTransports }),
    validator: new ArgumentValidator({ logger }),
    logger,
    newRunId: () => 'r_00000000',
    serverTimeouts: new Map(),
    learner,
  });
  const learning: Profile = { ...profile, selection: { ...profile.selection, learn: true } };
  const lexical: Profile = { ...profile, selection: { ...profile.selection, learn: false } };
  const view = views.forProfile(learning);

  const order = shuffled(dataset.queries, seed).slice(0, options.sample ?? dataset.queries.length);
  const half = Math.floor(order.length / 2);
  const [fed, held] = [order.slice(0, half), order.slice(half)];
  const total = order.length;
  let requests = 0;
  const used = new Set<string>();
  for (const [index, query] of fed.entries()) {
    const session = { caller: 'replay', sessionId: `#fed-${index}` };
    const context: CallerContext = { caller: session.caller, profile: learning, connectionId: session.sessionId };
    // One request per group when the dataset says what each group was needed for, else the query.
    const needs = needsOf(query);
    for (const [group, tools] of query.expected.entries()) {
      const request = needs ? needs[group]! : query.query;
      if (needs || group === 0) {
        await core.automaticMcp({ query: request, limit: k }, context);
        requests += 1;
      }
      // Exactly what a successful automatic_eval of this tool reports to the learner.
      const tool = tools.map((name) => view.get(name)).find((found) => found !== undefined);
      if (tool === undefined) continue;
      learner.used({ profile: learning, session, tool });
      used.add(tool.name);
    }
    options.onProgress?.(index + 1, total);
  }

  const tally = { all: new Tally(), withEvidence: new Tally(), noEvidence: new Tally() };
  const latencies = { without: [] as number[], with: [] as number[] };
  for (const [index, query] of held.entries()) {
    const recall = async (as: Profile) => {
      const started = performance.now();
      const output = await core.automaticMcp(
        { query: query.query, limit: k, fresh: true },
        { caller: 'replay', profile: as, connectionId: `#held-${index}` },
      );
      latencies[as === learning ? 'with' : 'without'].push(performance.now() - started);
      return recallAt(
        [...output.tools, ...output.unchanged].map((tool) => tool.name),
        query.expected,
        k,
      );
    };
    const [without, withLearning] = [await recall(lexical), await recall(learning)];
    const evidence = query.expected.some((group) => group.some((name) => used.has(name)));
    tally.all.add(without, withLearning);
    (evidence ? tally.withEvidence : tally.noEvidence).add(without, withLearning);
    options.onProgress?.(half + index + 1, total);
  }
  return {
    dataset: { name: dataset.name, file: dataset.file },
    distractors: distractors.map((entry) => ({ name: entry.name, file: entry.file })),
    tools: view.tools.length,
    k,
    seed,
    fed: { queries: fed.length, requests, usedTools: used.size, pairs: learner.table(learning.name).size },
    all: tally.all.summary(),
    withEvidence: tally.withEvidence.summary(),
    noEvidence: tally.noEvidence.summary(),
    latencyMs: {
      without: { p50: percentile(latencies.without, 50), p95: percentile(latencies.without, 95) },
      with: { p50: percentile(latencies.with, 50), p95: percentile(latencies.with, 95) },
    },
  };
}

/** The query's `needs` (one request per required group) when the dataset has them. */
function needsOf(query: DatasetQuery): string[] | undefined {
  const needs = (query as { needs?: unknown }).needs;
  if (!Array.isArray(needs) || needs.length !== query.expected.length) return undefined;
  return needs.every((need) => typeof need === 'string' && need.trim().length > 0) ? (needs as string[]) : undefined;
}

class Tally {
  #count = 0;
  #without = 0;
  #with = 0;

  add(without: number, withLearning: number): void {
    this.#count += 1;
    this.#without += without;
    this.#with += withLearning;
  }

  summary(): ReplayRecall {
    const n = Math.max(this.#count, 1);
    return { queries: this.#count, without: this.#without / n, with: this.#with / n };
  }
}

/** A copy of `items` in a fixed pseudo-random order (Fisher–Yates on mulberry32 of `seed`). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** No server is started in a replay; a transport request is a bug. */
function noTransports(): never {
  throw new Error('the replay benchmark starts no downstream server');
}

/** The report as a few lines of text. */
export function formatReplay(report: ReplayReport): string {
  const row = (label: string, recall: ReplayRecall) =>
    `${label.padEnd(34)} ${String(recall.queries).padStart(6)}  ${recall.without.toFixed(3).padStart(8)}  ${recall.with.toFixed(3).padStart(8)}  ${(recall.with - recall.without >= 0 ? '+' : '') + (recall.with - recall.without).toFixed(3)}`;
  const distractors =
    report.distractors.length > 0 ? ` + ${report.distractors.map((d) => d.name || d.file).join(', ')} as distractors` : '';
  return `${[
    `replay ${report.dataset.name || report.dataset.file}${distractors} · ${report.tools} tools · seed ${report.seed}`,
    `fed as use: ${report.fed.queries} queries (${report.fed.requests} automatic_mcp requests), ${report.fed.usedTools} tools run, ${report.fed.pairs} (term, tool) pairs learned`,
    '',
    `${'second half'.padEnd(34)} ${'queries'.padStart(6)}  ${`R@${report.k} off`.padStart(8)}  ${`R@${report.k} on`.padStart(8)}  lift`,
    row('all', report.all),
    row('tools with evidence', report.withEvidence),
    row('tools without evidence', report.noEvidence),
    `automatic_mcp latency without learning: p50 ${report.latencyMs.without.p50.toFixed(2)} ms · p95 ${report.latencyMs.without.p95.toFixed(2)} ms`,
    `automatic_mcp latency with learning:    p50 ${report.latencyMs.with.p50.toFixed(2)} ms · p95 ${report.latencyMs.with.p95.toFixed(2)} ms`,
  ].join('\n')}\n`;
}
