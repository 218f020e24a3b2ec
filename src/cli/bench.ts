/**
 * `automcp bench`: selection quality and gateway overhead, measured the same way every time. Figures
 * go to stdout (a table, or JSON with --json); the progress bar goes to stderr, and only to a terminal.
 */
import { Command, InvalidArgumentError } from 'commander';
import { DatasetError, loadDataset, type Dataset } from '../bench/dataset.js';
import { runOverheadBench, type AutomcpBuild, type OverheadReport } from '../bench/overhead.js';
import { formatReplay, runReplayBench } from '../bench/replay.js';
import { runSelectionBench, type QueryHalf, type SelectionReport } from '../bench/selection.js';
import { meanRecallDelta, resolveDatasets, runSuite, SUITE_SAMPLE, type SuiteSet } from '../bench/suite.js';
import { loadConfig, loadProfile, type Profile } from '../config/load.js';
import { profileSchema, runtimeSchema } from '../config/schema.js';
import { startupCommand } from './benchStartup.js';
import { scanCommand } from './benchScan.js';
import { stuffingCommand } from './benchStuffing.js';
import { addModelOptions, benchModelFor, type BenchModelOptions } from './benchModel.js';
import {
  addEmbeddingsOptions,
  benchVectorsFor,
  compareSelection,
  compareSuite,
  type BenchEmbeddingsOptions,
} from './benchEmbeddings.js';
import type { HeapGrowing } from './heap.js';

/**
 * The `bench` command group; other benchmarks join it with one `addCommand`. `heap` is the V8 heap
 * growing the CLI set at start, reported next to peak RSS because it decides most of that figure.
 */
export function createBenchCommand({ heap }: { heap: HeapGrowing }): Command {
  const bench = new Command('bench').description('measure selection quality and gateway overhead');
  bench.addCommand(selectionCommand(heap));
  bench.addCommand(suiteCommand());
  bench.addCommand(stuffingCommand());
  bench.addCommand(overheadCommand());
  bench.addCommand(startupCommand());
  bench.addCommand(scanCommand());
  return bench;
}

interface SelectionOptions extends BenchModelOptions, BenchEmbeddingsOptions {
  dataset: string;
  distractors?: string[];
  config?: string;
  profile?: string;
  k: number[];
  half: QueryHalf;
  sample?: number;
  json?: boolean;
  replay?: boolean;
}

function selectionCommand(heap: HeapGrowing): Command {
  return addEmbeddingsOptions(addModelOptions(new Command('selection')))
    .description('rank every query of a dataset (CONTRACT §5 format) with the selection graph and score it')
    .requiredOption('--dataset <file>', 'dataset with servers and queries')
    .option('--distractors <files...>', 'datasets whose servers join the catalog (their queries are ignored)')
    .option('--config <path>', 'runtime.yaml whose profilesDir and selector.candidates to use (no server is started)')
    .option('--profile <name>', 'caller profile (default: the built-in profile that sees everything)')
    .option('--k <list>', 'cut-offs, comma-separated; the largest is the selection limit', kList, [1, 5, 10])
    .option('--half <which>', 'all queries, or every other one by position: all | even | odd', half, 'all')
    .option('--sample <n>', 'run only N queries, spread evenly over the dataset', positive)
    .option('--json', 'print the report as JSON')
    .option('--replay', 'feed the first half of the queries (shuffled) as use, score the second without and with learning')
    .action(async (options: SelectionOptions) => {
      await reportingDatasetErrors(async () => {
        const dataset = await loadDataset(options.dataset);
        const distractors = await Promise.all((options.distractors ?? []).map((file) => loadDataset(file)));
        const { profile, candidates } = await profileFor(options);
        if (options.replay) {
          const sample = options.sample !== undefined ? { sample: options.sample } : {};
          const report = await runReplayBench({ dataset, distractors, profile, candidates, ...sample });
          process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReplay(report));
          return;
        }
        const progress = createProgress(`selection ${dataset.name || options.dataset}`);
        const model = await benchModelFor(options, dataset);
        const base = {
          ...(model ? { model } : {}),
          ...(options.decompose ? { decompose: options.decompose } : {}),
          ...(options.compact ? { compact: true } : {}),
          ...(options.serverFirst ? { serverFirst: options.serverFirst } : {}),
          ...(options.rewrite ? { rewrite: true } : {}),
          dataset,
          distractors,
          profile,
          ks: options.k,
          candidates,
          half: options.half,
          ...(options.sample !== undefined ? { sample: options.sample } : {}),
          onProgress: progress.update,
        };
        const embeddings = await benchVectorsFor(options);
        if (embeddings) {
          const output = await compareSelection({ base, embeddings, label: dataset.name || options.dataset, json: options.json });
          progress.done();
          process.stdout.write(output);
          return;
        }
        const report = await runSelectionBench(base);
        progress.done();
        const heapGrowingPercent = heap.percent ?? null;
        process.stdout.write(
          options.json ? `${JSON.stringify({ ...report, heapGrowingPercent }, null, 2)}\n` : formatSelection(report, heap),
        );
      });
    });
}

interface SuiteOptions extends BenchModelOptions, BenchEmbeddingsOptions {
  datasets?: string;
  config?: string;
  profile?: string;
  k: number[];
  half: QueryHalf;
  sample: number;
  json?: boolean;
}

function suiteCommand(): Command {
  return addEmbeddingsOptions(addModelOptions(new Command('suite')))
    .description(
      'the selection dev suite: MetaTool, toolgym-tasks, and each with the ToolGym catalog as distractors, next to plain BM25',
    )
    .option(
      '--datasets <dir>',
      'folder with metatool.json, toolgym-tasks.json, toolgym-catalog.json (default: $AUTOMCP_DATASETS, else ../shared/datasets)',
    )
    .option('--half <which>', 'all queries, or every other one by position: all | even | odd', half, 'all')
    .option('--sample <n>', `queries per set at most, spread evenly (default ${SUITE_SAMPLE})`, positive, SUITE_SAMPLE)
    .option('--k <list>', 'cut-offs, comma-separated; the largest is the selection limit', kList, [5])
    .option('--config <path>', 'runtime.yaml whose profilesDir and selector.candidates to use (no server is started)')
    .option('--profile <name>', 'caller profile (default: the built-in profile that sees everything)')
    .option('--json', 'print the reports as JSON')
    .action(async (options: SuiteOptions) => {
      await reportingDatasetErrors(async () => {
        const datasets = await resolveDatasets(options.datasets);
        const { profile, candidates } = await profileFor(options);
        let progress = createProgress('suite');
        const suite = {
          datasets,
          profile,
          candidates,
          half: options.half,
          ks: options.k,
          sample: options.sample,
          modelFor: (dataset: Dataset) => benchModelFor(options, dataset),
          ...(options.decompose ? { decompose: options.decompose } : {}),
          ...(options.compact ? { compact: true } : {}),
          ...(options.serverFirst ? { serverFirst: options.serverFirst } : {}),
          ...(options.rewrite ? { rewrite: true } : {}),
          onSet: (label: string) => {
            progress.done();
            progress = createProgress(label);
          },
          onProgress: (done: number, total: number) => progress.update(done, total),
        };
        const embeddings = await benchVectorsFor(options);
        if (embeddings) {
          const output = await compareSuite({ suite, embeddings, json: options.json });
          progress.done();
          process.stdout.write(output);
          return;
        }
        const sets = await runSuite(suite);
        progress.done();
        const k = options.k.includes(5) ? 5 : options.k[options.k.length - 1]!;
        process.stdout.write(
          options.json
            ? `${JSON.stringify({ datasets, half: options.half, meanRecallDelta: { k, value: meanRecallDelta(sets, k) }, sets }, null, 2)}\n`
            : formatSuite(sets, k),
        );
      });
    });
}

interface OverheadOptions {
  calls: number;
  warmup: number;
  tool: string;
  arguments: string;
  compare?: AutomcpBuild[];
  json?: boolean;
}

function overheadCommand(): Command {
  return new Command('overhead')
    .description(
      'automatic_eval through automcp serve over stdio, side by side with the direct call, a bare line relay and a plain SDK proxy',
    )
    .option('--calls <n>', 'measured calls per path', positive, 300)
    .option('--warmup <n>', 'unmeasured calls per path first', nonNegative, 20)
    .argument('[server...]', 'the stdio server to call and its arguments, after -- (default: the bundled server-everything)')
    .option('--tool <name>', 'the tool to call', 'echo')
    .option('--arguments <json>', 'its arguments, as JSON', '{"message":"hello"}')
    .option('--compare <label=main.js...>', 'other automcp builds to measure in the same run (their dist/cli/main.js)', builds)
    .option('--json', 'print the report as JSON')
    .action(async (server: string[], options: OverheadOptions) => {
      let args: Record<string, unknown>;
      try {
        args = JSON.parse(options.arguments) as Record<string, unknown>;
      } catch (error) {
        throw new InvalidArgumentError(`--arguments is not JSON: ${(error as Error).message}`);
      }
      const progress = createProgress('overhead');
      const report = await runOverheadBench({
        calls: options.calls,
        warmup: options.warmup,
        tool: options.tool,
        arguments: args,
        ...(server.length > 0 ? { server: { command: server[0]!, args: server.slice(1) } } : {}),
        ...(options.compare ? { builds: options.compare } : {}),
        onProgress: progress.update,
      });
      progress.done();
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatOverhead(report));
    });
}

async function profileFor(options: {
  config?: string;
  profile?: string;
  candidates?: number;
}): Promise<{ profile: Profile; candidates: number }> {
  if (options.config === undefined && options.profile === undefined) {
    const defaults = runtimeSchema.parse({ version: 1 });
    return {
      profile: { ...profileSchema.parse({}), name: 'default' },
      candidates: options.candidates ?? defaults.selector.candidates,
    };
  }
  const config = await loadConfig(options.config !== undefined ? { path: options.config } : {});
  const profile = await loadProfile({
    profilesDir: config.profilesDir,
    ...(options.profile !== undefined ? { name: options.profile } : {}),
  });
  return { profile, candidates: options.candidates ?? config.selector.candidates };
}

async function reportingDatasetErrors(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (!(error instanceof DatasetError)) throw error;
    process.stderr.write(`automcp: dataset error in ${error.message}\n`);
    process.exitCode = 1;
  }
}

/** A one-line progress bar on stderr, drawn only when stderr is a terminal (never into a pipe or a log). */
function createProgress(label: string): { update: (done: number, total: number) => void; done: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, done: () => undefined };
  let last = -1;
  return {
    update(done, total) {
      const percent = Math.floor((done / Math.max(total, 1)) * 100);
      if (percent === last) return;
      last = percent;
      const width = 30;
      const filled = Math.round((percent / 100) * width);
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent}% (${done}/${total})`);
    },
    done() {
      if (last >= 0) process.stderr.write('\n');
    },
  };
}

function formatSelection(report: SelectionReport, heap: HeapGrowing): string {
  const growing =
    heap.percent !== undefined
      ? `V8 heap growing ${heap.percent}%`
      : `V8 heap growing ${heap.source === 'env' ? "at V8's default" : 'set by node flags'}`;
  const lines = [
    `dataset ${report.dataset.name || report.dataset.file}${report.distractors.length > 0 ? ` + ${report.distractors.map((d) => d.name || d.file).join(', ')} as distractors` : ''}`,
    `profile ${report.profile} · ${report.tools} tools on ${report.servers} servers · ${report.queries} queries (${report.half})`,
    '',
    '   k  Recall@k  Complete@k  ServerRecall@k   plain BM25: Recall@k  Complete@k  ServerRecall@k',
    ...report.metrics.map((m, index) => {
      const base = report.baseline[index]!;
      return `${String(m.k).padStart(4)}  ${fixed(m.recall, 3).padStart(8)}  ${fixed(m.complete, 3).padStart(10)}  ${fixed(m.serverRecall, 3).padStart(14)}  ${fixed(base.recall, 3).padStart(20)}  ${fixed(base.complete, 3).padStart(10)}  ${fixed(base.serverRecall, 3).padStart(14)}`;
    }),
    `lexical reach ${fixed(report.lexicalReach, 3)}: required tools that share a term with their query (the most any term-matching ranking can recall)`,
    ...modelPathLines(report),
    '',
    `tokens: mean automatic_mcp response ${fixed(report.tokens.meanResponse, 0)} (limit ${report.tokens.limit}) · full catalog ${report.tokens.fullCatalog} · ${fixed(report.tokens.share * 100, 2)}%`,
    `selection latency: p50 ${fixed(report.latencyMs.p50, 2)} ms · p95 ${fixed(report.latencyMs.p95, 2)} ms · mean ${fixed(report.latencyMs.mean, 2)} ms`,
    `index build ${fixed(report.buildMs, 0)} ms · peak RSS ${fixed(report.peakRssMB, 0)} MB (${growing})`,
  ];
  return `${lines.join('\n')}\n`;
}

function formatSuite(sets: readonly SuiteSet[], k: number): string {
  const lines: string[] = [];
  for (const { label, report } of sets) {
    const skipped = report.distractors.reduce((sum, entry) => sum + entry.skippedServers, 0);
    lines.push(
      `${label} · ${report.tools} tools on ${report.servers} servers${skipped > 0 ? ` (${skipped} distractor servers already in the dataset skipped)` : ''} · ${report.queries} queries (${report.half})`,
      `              ${report.metrics.map((m) => `Recall@${m.k}  Complete@${m.k}  ServerRecall@${m.k}`).join('  ')}`,
    );
    const row = (name: string, metrics: SelectionReport['metrics'], sign = false) =>
      `${name.padEnd(12)}  ${metrics
        .map((m) =>
          [m.recall, m.complete, m.serverRecall]
            .map((value, i) => (sign ? signed(value) : fixed(value, 3)).padStart([8, 10, 14][i]! + String(m.k).length))
            .join('  '),
        )
        .join('  ')}`;
    const delta = report.metrics.map((m, i) => {
      const base = report.baseline[i]!;
      return {
        k: m.k,
        recall: m.recall - base.recall,
        complete: m.complete - base.complete,
        serverRecall: m.serverRecall - base.serverRecall,
      };
    });
    lines.push(
      row('automcp', report.metrics),
      row('plain BM25', report.baseline),
      row('delta', delta, true),
      `selection p50 ${fixed(report.latencyMs.p50, 2)} ms · p95 ${fixed(report.latencyMs.p95, 2)} ms · index build ${fixed(report.buildMs, 0)} ms · lexical reach ${fixed(report.lexicalReach, 3)}`,
      ...modelPathLines(report),
      '',
    );
  }
  lines.push(`mean Recall@${k} delta over the ${sets.length} sets: ${signed(meanRecallDelta(sets, k))}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Candidate recall, and with a model what the model path cost. An oracle's Recall@k is printed as the
 * ceiling of the model path — what any model behind these candidates could reach at most.
 */
function modelPathLines(report: SelectionReport): string[] {
  const lines = [
    `candidate recall ${fixed(report.candidateRecall.recall, 3)}: required tools among the ${report.candidateRecall.candidates} candidates a model is shown`,
  ];
  const stage = report.stage;
  if (stage) {
    const what = [
      ...(stage.serverFirst
        ? [
            `server-first${stage.serverFirst === 'lexical' ? ' (lexical pick)' : report.modelPath?.oracle ? ' (the oracle picks the labelled servers: a ceiling)' : ''}`,
          ]
        : []),
      ...(stage.rewrite ? ['rewrite'] : []),
    ].join(' + ');
    lines.push(
      `  without ${what}, same run: ${fixed(stage.candidateRecallWithout, 3)} · server-first call prompt (server lines) mean ${fixed(stage.serverPromptTokens.mean, 0)} · p95 ${fixed(stage.serverPromptTokens.p95, 0)} tokens · required tools whose server is shown ${fixed(stage.shownServerRecall, 3)}`,
    );
  }
  const path = report.modelPath;
  if (!path) return lines;
  const top = report.metrics[report.metrics.length - 1]!;
  lines.push(
    path.oracle
      ? `model-path ceiling (oracle: picks exactly the labelled tools it is shown, not a model result): Recall@${top.k} ${fixed(top.recall, 3)}`
      : `model ${path.model}: Recall@${top.k} ${fixed(top.recall, 3)} · ${path.fallbacks} selections fell back to the lexical order`,
    `model calls per selection ${fixed(path.callsPerSelection, 2)} · prompt tokens (cl100k) mean ${fixed(path.promptTokens.mean, 0)} · p95 ${fixed(path.promptTokens.p95, 0)}`,
  );
  return lines;
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
}

function formatOverhead(report: OverheadReport): string {
  const width = Math.max(...report.paths.map((path) => path.path.length));
  return (
    [
      `overhead: ${report.calls} calls per path, alternating · tool ${report.tool} on ${report.server}`,
      ...report.paths.map(
        (path) =>
          `${path.path.padEnd(width)}  p50 ${fixed(path.p50, 3)} ms · p95 ${fixed(path.p95, 3)} ms` +
          (path.path === 'direct' ? '' : ` · adds ${fixed(path.addedP50, 3)} ms at p50`) +
          `  (${path.description})`,
      ),
    ].join('\n') + '\n'
  );
}

function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

function kList(value: string): number[] {
  const ks = value.split(',').map((part) => Number(part.trim()));
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1 || k > 50)) {
    throw new InvalidArgumentError('expected comma-separated integers from 1 to 50, e.g. 1,5,10');
  }
  return [...new Set(ks)].sort((a, b) => a - b);
}

function half(value: string): QueryHalf {
  if (value !== 'all' && value !== 'even' && value !== 'odd') throw new InvalidArgumentError('expected all, even or odd');
  return value;
}

/** `label=path` (or a bare path, labelled by its position), collected over repeated options. */
function builds(value: string, previous: AutomcpBuild[] | undefined): AutomcpBuild[] {
  const list = previous ?? [];
  const at = value.indexOf('=');
  const label = at > 0 ? value.slice(0, at) : String(list.length + 1);
  const main = at > 0 ? value.slice(at + 1) : value;
  if (main === '') throw new InvalidArgumentError('expected label=path/to/dist/cli/main.js');
  return [...list, { label, main }];
}

function positive(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

function nonNegative(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return parsed;
}
