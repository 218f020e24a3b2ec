/**
 * The selection benchmark: a catalog built straight from dataset files (no server is started), the
 * same GatewayCore and selection graph that `serve` uses, and every query answered as `automatic_mcp`
 * answers it for a fresh session. Reports recall, completeness, server recall, response tokens against
 * the full catalog, selection latency, index build time and peak memory — and the same recall figures
 * for plain BM25 over the same view and queries (CONTRACT §5), so every figure has its baseline.
 */
import { loadHasher } from '../catalog/hash.js';
import { CallerViews } from '../catalog/view.js';
import type { Profile } from '../config/load.js';
import { DownstreamRegistry } from '../downstream/registry.js';
import { GatewayError } from '../errors.js';
import { ArgumentValidator } from '../gateway/arguments.js';
import { GatewayCore } from '../gateway/core.js';
import { createSilentLogger } from '../logging/logger.js';
import { countJsonTokens, countTokens } from '../tokens/count.js';
import type { LexicalIndex, LexicalParameters } from '../selection/lexical.js';
import { createLlmRerank, type ChatSelector } from '../selection/llm.js';
import type { PromptMessage } from '../selection/prompts.js';
import { GraphSelector, type Selection, type SelectionRequest, type Selector } from '../selection/selector.js';
import { createEmbeddingsStage } from '../selection/hybrid.js';
import type { ToolVectors } from '../selection/vectors.js';
import { buildPlanPrompt, createPreRetrieval, SERVERS_SHOWN } from '../selection/serverFirst.js';
import { ServerSummaries } from '../selection/serverSummaries.js';
import { MemorySessionStore } from '../session/memory.js';
import { Bm25Index } from './bm25.js';
import { catalogOf, type Dataset } from './dataset.js';
import { percentile, RecallTally, recallAt } from './metrics.js';

/** Which queries of the dataset to run: all, or every other one by position (for tuning on one half). */
export type QueryHalf = 'all' | 'even' | 'odd';

/** Options of {@link runSelectionBench}. */
export interface SelectionBenchOptions {
  dataset: Dataset;
  /**
   * Files whose servers join the catalog; their queries are ignored. A distractor server whose name is
   * already a server of `dataset` is skipped (the dataset's own copy, with its labels, is the one kept).
   */
  distractors?: readonly Dataset[];
  profile: Profile;
  /** Cut-offs to report; the largest is also the `limit` of every `automatic_mcp` call. */
  ks: readonly number[];
  /** Lexical candidates handed on by retrieve (runtime.yaml `selector.candidates`). */
  candidates: number;
  half?: QueryHalf;
  /** Run only this many queries, spread evenly over the chosen ones (the file may be sorted by tool). */
  sample?: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * A chat model behind the real LLM node; without it the run is lexical. With `oracle` set, the model
   * knows the labels (bench/oracle.ts) and its Recall@k is reported as the ceiling, not a model result.
   */
  model?: { chat: ChatSelector['chat']; label: string; timeoutMs: number; oracle: boolean };
  /** With a model: the decompose stage first (runtime.yaml `selector.decompose`). */
  decompose?: boolean | 'always';
  /** With a model: compact candidate lines (runtime.yaml `selector.compact`). */
  compact?: boolean;
  /**
   * Embeddings (runtime.yaml `selector.embeddings`): every tool is embedded before the first query, and
   * each ranking is fused with the ranking by meaning at `weight` (Infinity: the ranking by meaning alone).
   */
  embeddings?: { vectors: ToolVectors; weight: number };
  /** Ranking parameters other than the defaults, to measure another ranker in the same run. */
  lexical?: Partial<LexicalParameters>;
  /** A tool whose place in every top-k list to count (the stuffing bench's stuffed tool). */
  watch?: string;
  /** False: skip plain BM25 (a run that only compares rankers); `baseline` is then empty. */
  baseline?: boolean;
  /**
   * With a model: the server-first stage (runtime.yaml `selector.serverFirst`). `lexical` picks servers
   * by a BM25 ranking of their lines — no labels, no call — so an oracle run still measures it honestly.
   */
  serverFirst?: boolean | 'lexical';
  /** With a model: the query rewrite (runtime.yaml `selector.rewrite`). */
  rewrite?: boolean;
}

/** How often the watched tool was in the first k (the largest k) and first, for automcp and plain BM25. */
export interface WatchReport {
  name: string;
  top: number;
  first: number;
  baseline: { top: number; first: number };
}

/** What a pre-retrieval stage (server-first, rewrite) added, measured against the same run without it. */
export interface StageReport {
  serverFirst: boolean | 'lexical';
  rewrite: boolean;
  /** Candidate recall of the same settings without server-first and rewrite, in the same run. */
  candidateRecallWithout: number;
  /** cl100k tokens of the server-first call's prompt (the server lines shown), per selection. */
  serverPromptTokens: { mean: number; p95: number };
  /**
   * Share of required tools whose server is among the lines the server-first call shows: the most a
   * model's server pick could add, whoever picks.
   */
  shownServerRecall: number;
}

/** What the model path cost and could reach, per selection. */
export interface ModelPathReport {
  /** `provider:model`, or `oracle`. */
  model: string;
  /** True when the figures are the ceiling of the model path (a label-knowing model). */
  oracle: boolean;
  /** Model calls per selection, mean. */
  callsPerSelection: number;
  /** cl100k tokens of the messages sent per selection (all calls together). */
  promptTokens: { mean: number; p95: number };
  /** Selections whose model answer was not used (an error or timeout: lexical order kept). */
  fallbacks: number;
}

/** What the selection benchmark measured. */
export interface SelectionReport {
  dataset: { name: string; file: string };
  distractors: { name: string; file: string; skippedServers: number }[];
  profile: string;
  half: QueryHalf;
  queries: number;
  tools: number;
  servers: number;
  metrics: { k: number; recall: number; complete: number; serverRecall: number }[];
  /** The same figures for plain BM25 (src/bench/bm25.ts) over the same view and queries. */
  baseline: { k: number; recall: number; complete: number; serverRecall: number }[];
  /**
   * Recall if every tool that shares at least one indexed term with the query were selected: the most
   * any ranking that scores matching terms can reach, whatever its weights (the lexical ranker leaves
   * out tools with no matching term). What lies above it needs meaning, not words.
   */
  lexicalReach: number;
  /**
   * Share of the required tools among the candidates a model is shown (the first `candidates` of the
   * ranking retrieve hands on): what no model behind the graph can exceed. Measured with or without one.
   */
  candidateRecall: { candidates: number; recall: number };
  /** Present when a model took part. */
  modelPath?: ModelPathReport;
  /** Present when rankings were fused with embeddings: the model and the weight of its ranking. */
  embeddings?: { model: string; weight: number };
  /** Present with the `watch` option: shares of the queries. */
  watched?: WatchReport;
  /** Present when server-first or rewrite ran. */
  stage?: StageReport;
  tokens: { limit: number; meanResponse: number; fullCatalog: number; share: number };
  latencyMs: { p50: number; p95: number; mean: number };
  buildMs: number;
  peakRssMB: number;
}

/** Runs every chosen query of the dataset through `automatic_mcp`. */
export async function runSelectionBench(options: SelectionBenchOptions): Promise<SelectionReport> {
  const { dataset, profile, ks } = options;
  const distractors = withoutDatasetServers(dataset, options.distractors ?? []);
  const half = options.half ?? 'all';
  const limit = Math.max(...ks);
  if (!Number.isInteger(limit) || limit < 1 || limit > 50) {
    throw new GatewayError('INVALID_INPUT', 'the largest k must be an integer from 1 to 50 (the automatic_mcp limit)');
  }
  const hasher = await loadHasher();
  const catalog = catalogOf({ datasets: [dataset, ...distractors], hasher });
  const views = new CallerViews({ catalog, hasher });
  const logger = createSilentLogger();
  const meter = { calls: 0, tokens: 0 };
  const chat: ChatSelector | undefined = options.model && {
    chat: options.model.chat,
    label: options.model.label,
    timeoutMs: options.model.timeoutMs,
    scrub: (text) => text,
    ...(options.compact ? { compact: true } : {}),
    onCall: (messages: PromptMessage[]) => {
      meter.calls += 1;
      meter.tokens += messages.reduce((sum, [, text]) => sum + countTokens(text), 0);
    },
  };
  const summaries = new ServerSummaries({ describe: (server) => catalog.server(server)?.description ?? '' });
  const graphFor = (model: ChatSelector | undefined, stages: boolean): GraphSelector => {
    const pre =
      model &&
      createPreRetrieval({
        model,
        logger,
        summaries,
        ...(options.decompose ? { decompose: options.decompose } : {}),
        ...(stages && options.serverFirst ? { serverFirst: options.serverFirst } : {}),
        ...(stages && options.rewrite ? { rewrite: true } : {}),
      });
    return new GraphSelector({
      catalog,
      views,
      candidates: options.candidates,
      ...(options.lexical ? { lexical: options.lexical } : {}),
      // Without the stage only the candidates are read: a rerank that keeps them as they are lets the
      // decomposition run (it runs only before a rerank) without paying for a choice.
      ...(model ? { rerank: stages ? createLlmRerank({ logger, model }) : async () => ({}) } : {}),
      ...(pre ? { decompose: pre } : {}),
      ...(options.embeddings
        ? { embeddings: createEmbeddingsStage({ vectors: options.embeddings.vectors, weight: options.embeddings.weight }) }
        : {}),
    });
  };
  const selector = new TimedSelector(graphFor(chat, true));
  // The same settings without server-first and rewrite, unmetered and with no choice call: the candidates
  // the stage is measured against.
  const staged = chat !== undefined && (options.serverFirst !== undefined || options.rewrite === true);
  const without = staged ? graphFor({ ...chat, onCall: () => {} }, false) : undefined;
  const core = new GatewayCore({
    catalog,
    views,
    selector,
    // One session, forgotten before each query, so every response is what a fresh conversation gets.
    sessions: new MemorySessionStore({ ttlSeconds: 3600, maxSessions: 1 }),
    registry: new DownstreamRegistry({ servers: [], catalog, logger, transports: noTransports }),
    validator: new ArgumentValidator({ logger }),
    logger,
    newRunId: () => 'r_00000000',
    serverTimeouts: new Map(),
  });

  const started = performance.now();
  const view = views.forProfile(profile);
  const lexicalIndex = selector.indexFor(view);
  const buildMs = performance.now() - started;
  const fullCatalog = countJsonTokens(core.fullCatalog(profile));
  if (options.embeddings) {
    // Measured at steady state: every tool embedded first (tools already embedded are not asked again).
    const { vectors } = options.embeddings;
    vectors.sync(catalog.tools());
    await vectors.idle();
    if (!vectors.covers(view.tools)) {
      throw new GatewayError(
        'INVALID_INPUT',
        `the embeddings service did not embed every tool: ${vectors.status().error ?? 'unknown error'}`,
      );
    }
  }

  const chosen = chosenQueries(dataset, half, options.sample);
  // One unmeasured selection first: the first run of the graph pays for compiling code paths once.
  if (chosen[0])
    await core.automaticMcp({ query: chosen[0].query, limit, fresh: true }, { caller: 'bench', profile, connectionId: 'warmup' });
  selector.latencies.length = 0;
  const tally = new RecallTally(ks);
  let responseTokens = 0;
  let reach = 0;
  let candidateRecall = 0;
  const prompts: number[] = [];
  let calls = 0;
  let fallbacks = 0;
  const watched = { top: 0, first: 0, baseline: { top: 0, first: 0 } };
  let recallWithout = 0;
  let shownServers = 0;
  let serverRequired = 0;
  const serverPrompts: number[] = [];
  const context = { caller: 'bench', profile, connectionId: 'bench' };
  for (const [index, query] of chosen.entries()) {
    meter.calls = 0;
    meter.tokens = 0;
    const output = await core.automaticMcp({ query: query.query, limit, fresh: true }, context);
    const shown = (selector.last?.candidates ?? []).slice(0, options.candidates).map((entry) => entry.tool.name);
    candidateRecall += recallAt(shown, query.expected, shown.length);
    calls += meter.calls;
    prompts.push(meter.tokens);
    if (selector.last?.llm?.error !== undefined) fallbacks += 1;
    if (without) {
      const plain = await without.select({ query: query.query, profile, limit });
      const names = plain.candidates.slice(0, options.candidates).map((entry) => entry.tool.name);
      recallWithout += recallAt(names, query.expected, names.length);
      const servers = summaries.shortlist(view, query.query, SERVERS_SHOWN);
      const prompt = buildPlanPrompt({ query: query.query, servers, ask: { servers: true, needs: false, rewrite: false } });
      serverPrompts.push(prompt.reduce((sum, [, text]) => sum + countTokens(text), 0));
      const listed = new Set(servers.map((server) => server.name));
      shownServers += query.expected.filter((group) => group.some((name) => listed.has(name.split('.')[0]!))).length;
      serverRequired += query.expected.length;
    }
    const selected = [...output.tools, ...output.unchanged].map((tool) => tool.name);
    tally.add(selected, query.expected);
    count(watched, selected, options.watch);
    // The text block server.ts sends is exactly this JSON.
    responseTokens += countTokens(JSON.stringify(output));
    reach += lexicalReach(lexicalIndex, query.query, query.expected);
    options.onProgress?.(index + 1, chosen.length);
  }
  const meanResponse = responseTokens / Math.max(chosen.length, 1);
  const latencies = selector.latencies;
  // Read before the baseline's index exists: peak memory is the product's, not the reference's.
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  const baseline = new RecallTally(ks);
  if (options.baseline !== false) {
    const bm25 = new Bm25Index(view.tools);
    for (const query of chosen) {
      const selected = bm25.search(query.query, limit).map((hit) => hit.tool.name);
      baseline.add(selected, query.expected);
      count(watched.baseline, selected, options.watch);
    }
  }
  return {
    dataset: { name: dataset.name, file: dataset.file },
    distractors: distractors.map((entry, index) => ({
      name: entry.name,
      file: entry.file,
      skippedServers: options.distractors![index]!.servers.length - entry.servers.length,
    })),
    profile: profile.name,
    half,
    queries: chosen.length,
    tools: view.tools.length,
    servers: catalog.servers().length,
    metrics: tally.summary(),
    baseline: options.baseline !== false ? baseline.summary() : [],
    lexicalReach: reach / Math.max(chosen.length, 1),
    candidateRecall: { candidates: options.candidates, recall: candidateRecall / Math.max(chosen.length, 1) },
    ...(options.embeddings ? { embeddings: { model: options.embeddings.vectors.label, weight: options.embeddings.weight } } : {}),
    ...(options.model
      ? {
          modelPath: {
            model: options.model.label,
            oracle: options.model.oracle,
            callsPerSelection: calls / Math.max(chosen.length, 1),
            promptTokens: {
              mean: prompts.reduce((sum, value) => sum + value, 0) / Math.max(prompts.length, 1),
              p95: percentile(prompts, 95),
            },
            fallbacks,
          },
        }
      : {}),
    ...(options.watch !== undefined
      ? {
          watched: {
            name: options.watch,
            top: watched.top / Math.max(chosen.length, 1),
            first: watched.first / Math.max(chosen.length, 1),
            baseline: {
              top: watched.baseline.top / Math.max(chosen.length, 1),
              first: watched.baseline.first / Math.max(chosen.length, 1),
            },
          },
        }
      : {}),
    ...(without
      ? {
          stage: {
            serverFirst: options.serverFirst ?? false,
            rewrite: options.rewrite === true,
            candidateRecallWithout: recallWithout / Math.max(chosen.length, 1),
            serverPromptTokens: { mean: mean(serverPrompts), p95: percentile(serverPrompts, 95) },
            shownServerRecall: shownServers / Math.max(serverRequired, 1),
          },
        }
      : {}),
    tokens: { limit, meanResponse, fullCatalog, share: fullCatalog > 0 ? meanResponse / fullCatalog : 0 },
    latencyMs: {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      mean: latencies.reduce((sum, value) => sum + value, 0) / Math.max(latencies.length, 1),
    },
    buildMs,
    peakRssMB,
  };
}

/** Counts `name` in a top-k list and in its first place. */
function count(tally: { top: number; first: number }, selected: readonly string[], name: string | undefined): void {
  if (name === undefined) return;
  if (selected.includes(name)) tally.top += 1;
  if (selected[0] === name) tally.first += 1;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / Math.max(values.length, 1);
}

/** `distractors` without the servers `dataset` already has (by name). */
function withoutDatasetServers(dataset: Dataset, distractors: readonly Dataset[]): Dataset[] {
  const own = new Set(dataset.servers.map((server) => server.name));
  return distractors.map((entry) => ({ ...entry, servers: entry.servers.filter((server) => !own.has(server.name)) }));
}

/** Share of the required tools that share at least one indexed term with the query. */
function lexicalReach(index: LexicalIndex, query: string, expected: readonly (readonly string[])[]): number {
  const names = new Set(expected.flat());
  // One search per tool, so each is its own best match: the floor for broad tools, which is relative
  // to the best, never hides a tool that does share a term.
  const matching = [...names].filter(
    (name) => index.search(query, { limit: 1, allowed: (tool) => tool.name === name }).length > 0,
  );
  return recallAt(matching, expected, names.size);
}

/** The queries a run answers: the half's, spread evenly down to `sample`. */
export function chosenQueries(dataset: Dataset, half: QueryHalf, sample?: number): Dataset['queries'] {
  const queries = dataset.queries.filter((_, index) => half === 'all' || index % 2 === (half === 'even' ? 0 : 1));
  return spread(queries, sample ?? queries.length);
}

/** `count` entries of `items` at even steps, first included. */
function spread<T>(items: readonly T[], count: number): T[] {
  if (count >= items.length) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);
}

/** No server is started in a selection benchmark; a transport request is a bug. */
function noTransports(): never {
  throw new Error('the selection benchmark starts no downstream server');
}

/** Times each selection (the graph run, without the session store) around the real selector. */
class TimedSelector implements Selector {
  readonly latencies: number[] = [];
  /** The last selection made. */
  last: Selection | undefined;
  readonly #inner: Selector;

  constructor(inner: Selector) {
    this.#inner = inner;
  }

  async select(request: SelectionRequest): Promise<Selection> {
    const started = performance.now();
    const selection = await this.#inner.select(request);
    this.latencies.push(performance.now() - started);
    this.last = selection;
    return selection;
  }

  indexFor(view: Parameters<Selector['indexFor']>[0]): ReturnType<Selector['indexFor']> {
    return this.#inner.indexFor(view);
  }
}
