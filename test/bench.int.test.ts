/**
 * `automcp bench`, run from the built CLI on tiny fixtures: the selection report as a table and as
 * JSON, clear errors for bad datasets, and the overhead benchmark against a real stdio fixture server.
 * The full datasets run only from the command line (docs/benchmarks.md).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OverheadReport } from '../src/bench/overhead.js';
import type { SelectionReport } from '../src/bench/selection.js';
import type { StartupReport } from '../src/bench/startup.js';
import { runCli } from './helpers/gateway.js';
import { startFakeOpenAiEmbeddings } from './helpers/fakeEmbeddings.js';
import { EMBEDDINGS_WEIGHT } from '../src/selection/hybrid.js';
import { CLI_PATH, fixtureServer, makeTempDir, REPO_ROOT, writeConfigDir } from './helpers/config.js';

const TINY = join(REPO_ROOT, 'test', 'fixtures', 'datasets', 'tiny.json');
const DISTRACTORS = join(REPO_ROOT, 'test', 'fixtures', 'datasets', 'distractors.json');

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('automcp-bench-int-');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('automcp bench selection', () => {
  it('prints the report as JSON for machines', async () => {
    const started = performance.now();
    const result = await runCli(['bench', 'selection', '--dataset', TINY, '--distractors', DISTRACTORS, '--k', '5,1', '--json'], {
      AUTOMCP_HEAP_GROWING_PERCENT: '',
      NODE_OPTIONS: '',
    });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as SelectionReport & { heapGrowingPercent: number | null };
    // The heap growing the CLI set at start, which peak RSS depends on.
    expect(report.heapGrowingPercent).toBe(30);
    expect(report.tools).toBe(7);
    expect(report.queries).toBe(5);
    expect(report.metrics.map((entry) => entry.k)).toEqual([1, 5]);
    expect(report.metrics[0]?.recall).toBeGreaterThan(0);
    expect(report.tokens.fullCatalog).toBeGreaterThan(report.tokens.meanResponse);
    // Building the index is real work, done inside the run the test waited for.
    expect(report.buildMs).toBeGreaterThan(0);
    expect(report.buildMs).toBeLessThan(performance.now() - started);
    // Not a terminal: no progress bar on stderr.
    expect(result.stderr).toBe('');
  }, 60_000);

  it('prints a table for a person, with a profile from a configuration folder', async () => {
    const config = await writeConfigDir({ runtime: { servers: {} }, profiles: { nomail: { tools: { deny: ['mail.*'] } } }, dir });
    const result = await runCli(['bench', 'selection', '--dataset', TINY, '--config', config.dir, '--profile', 'nomail'], {
      AUTOMCP_HEAP_GROWING_PERCENT: '45',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('profile nomail · 4 tools on 4 servers · 5 queries (all)');
    // automcp's Recall, Complete and ServerRecall at 5, then plain BM25's on the same queries.
    expect(result.stdout).toMatch(/^\s+5(\s+\d\.\d{3}){6}$/m);
    expect(result.stdout).toMatch(/^lexical reach \d\.\d{3}: required tools that share a term with their query/m);
    expect(result.stdout).toMatch(/selection latency: p50 [\d.]+ ms · p95 [\d.]+ ms/);
    expect(result.stdout).toMatch(/index build \d+ ms · peak RSS \d+ MB \(V8 heap growing 45%\)/);
  }, 60_000);

  it('exits 1 with the file and what to fix for a bad dataset', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ servers: [{ name: 'ok', tools: [{ description: 'no name' }] }] }));
    const result = await runCli(['bench', 'selection', '--dataset', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`dataset error in ${file}`);
    expect(result.stderr).toContain('.servers[0].tools[0].name');
    expect(result.stdout).toBe('');
  }, 60_000);

  it('--model oracle prints candidate recall and the ceiling, labelled as such', async () => {
    const result = await runCli(['bench', 'selection', '--dataset', TINY, '--model', 'oracle', '--k', '5']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('candidate recall 0.800: required tools among the 40 candidates a model is shown');
    expect(result.stdout).toMatch(/model-path ceiling \(oracle: .*not a model result\): Recall@5 0\.800/);
    expect(result.stdout).toMatch(/model calls per selection 0\.80 · prompt tokens \(cl100k\) mean \d+ · p95 \d+/);
  }, 60_000);

  it('--embeddings compares lexical, embeddings-only and hybrid rankings through a local /v1/embeddings', async () => {
    const server = await startFakeOpenAiEmbeddings();
    try {
      const args = ['bench', 'selection', '--dataset', TINY, '--k', '1,5', '--embeddings', server.baseUrl];
      const table = await runCli([...args, '--embeddings-weights', '0.5,1']);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/embeddings openai:default/);
      for (const row of ['automcp lexical', 'embeddings only', 'hybrid (weight 0.5)', 'hybrid (weight 1)', 'plain BM25']) {
        expect(table.stdout).toContain(row);
      }
      const json = await runCli([...args, '--json']);
      const { variants } = JSON.parse(json.stdout) as { variants: { name: string; report: SelectionReport }[] };
      expect(variants.map((variant) => variant.name)).toEqual(['lexical', 'embeddings', 'hybrid']);
      expect(variants[2]!.report.embeddings).toEqual({ model: 'openai:default', weight: EMBEDDINGS_WEIGHT });
      const down = await runCli([...args, '--embeddings', 'http://127.0.0.1:9/v1']);
      expect(down.code).toBe(1);
      expect(down.stderr).toMatch(/^automcp: the embeddings service failed: Connection error\.\n$/);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('a provider without a model name or a key is one line saying what to set', async () => {
    const noName = await runCli(['bench', 'selection', '--dataset', TINY, '--model', 'openai']);
    expect(noName.code).toBe(1);
    expect(noName.stderr).toBe('automcp: --model openai needs --model-name\n');
    const noKey = await runCli(['bench', 'selection', '--dataset', TINY, '--model', 'openai', '--model-name', 'm'], {
      OPENAI_API_KEY: '',
    });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toBe(
      'automcp: no chat model: environment variable OPENAI_API_KEY (selector.llm.apiKeyEnv) is not set\n',
    );
  }, 60_000);

  it('rejects a bad --k', async () => {
    const result = await runCli(['bench', 'selection', '--dataset', TINY, '--k', '0,5']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('expected comma-separated integers from 1 to 50');
  }, 60_000);
});

describe('automcp bench suite', () => {
  /** A datasets folder with the suite's three file names: tiny twice, and distractors sharing one server. */
  async function suiteFolder(): Promise<string> {
    const folder = join(dir, 'suite');
    await mkdir(folder, { recursive: true });
    const tiny = await readFile(TINY, 'utf8');
    const distractors = JSON.parse(await readFile(DISTRACTORS, 'utf8')) as { servers: unknown[] };
    distractors.servers.push({ name: 'mail', description: 'a copy', tools: [{ name: 'send_email', description: 'Send mail.' }] });
    await writeFile(join(folder, 'metatool.json'), tiny);
    await writeFile(join(folder, 'toolgym-tasks.json'), tiny);
    await writeFile(join(folder, 'toolgym-catalog.json'), JSON.stringify(distractors));
    return folder;
  }

  it('runs the four sets next to plain BM25, skipping distractor servers the dataset already has', async () => {
    const folder = await suiteFolder();
    const result = await runCli(['bench', 'suite', '--datasets', folder, '--half', 'odd', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      half: string;
      meanRecallDelta: { k: number; value: number };
      sets: { label: string; report: SelectionReport }[];
    };
    expect(report.half).toBe('odd');
    expect(report.sets.map((set) => set.label)).toEqual([
      'MetaTool',
      'MetaTool + ToolGym distractors',
      'toolgym-tasks',
      'toolgym-tasks + ToolGym distractors',
    ]);
    const [alone, mixed] = report.sets.map((set) => set.report);
    expect(alone!.queries).toBe(2);
    expect(alone!.tools).toBe(5);
    // storage's two tools join; the distractor copy of "mail" is skipped, the dataset's own is kept.
    expect(mixed!.tools).toBe(7);
    expect(mixed!.distractors[0]?.skippedServers).toBe(1);
    for (const { report: set } of report.sets) {
      expect(set.metrics.map((m) => m.k)).toEqual([5]);
      expect(set.baseline.map((m) => m.k)).toEqual([5]);
    }
    const deltas = report.sets.map((set) => set.report.metrics[0]!.recall - set.report.baseline[0]!.recall);
    expect(report.meanRecallDelta.value).toBeCloseTo(deltas.reduce((a, b) => a + b, 0) / 4, 10);
  }, 60_000);

  it('prints one table per set, with plain BM25 and the delta', async () => {
    const folder = await suiteFolder();
    const result = await runCli(['bench', 'suite', '--half', 'even'], { AUTOMCP_DATASETS: folder });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'toolgym-tasks + ToolGym distractors · 7 tools on 5 servers (1 distractor servers already in the dataset skipped) · 3 queries (even)',
    );
    expect(result.stdout.match(/^automcp\s+(\d\.\d{3}\s*){3}$/gm)).toHaveLength(4);
    expect(result.stdout.match(/^plain BM25\s+(\d\.\d{3}\s*){3}$/gm)).toHaveLength(4);
    expect(result.stdout.match(/^delta\s+([+-]\d\.\d{3}\s*){3}$/gm)).toHaveLength(4);
    expect(result.stdout).toMatch(/^mean Recall@5 delta over the 4 sets: [+-]\d\.\d{3}$/m);
  }, 60_000);

  it('says where to point it when the datasets are not found', async () => {
    const result = await runCli(['bench', 'suite', '--datasets', join(dir, 'nowhere')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('missing metatool.json, toolgym-tasks.json, toolgym-catalog.json');
    expect(result.stderr).toContain('--datasets DIR or set AUTOMCP_DATASETS');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});

describe('automcp bench overhead', () => {
  it('times automatic_eval over stdio beside the direct call, a bare relay and a plain SDK proxy', async () => {
    const echo = fixtureServer('echo');
    const args = ['--calls', '6', '--warmup', '1', '--tool', 'echo', '--arguments', '{"message":"hi"}', '--json'];
    // The same build once more under a label: another build joins the run the same way.
    const compare = ['--compare', `again=${CLI_PATH}`];
    const result = await runCli(['bench', 'overhead', ...args, ...compare, '--', echo.command!, ...echo.args!]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as OverheadReport;
    expect(report.calls).toBe(6);
    expect(report.tool).toBe('echo');
    expect(report.server).toContain('echo-server.ts');
    expect(report.paths.map((path) => path.path)).toEqual([
      'direct',
      'relay',
      'sdk-proxy',
      'automcp',
      'automcp:again',
      'in-memory',
    ]);
    const direct = report.paths[0]!;
    for (const path of report.paths) {
      expect(path.p50).toBeGreaterThan(0);
      expect(path.p95).toBeGreaterThanOrEqual(path.p50);
      expect(path.addedP50).toBeCloseTo(path.p50 - direct.p50, 10);
    }
    expect(report.paths.find((path) => path.path === 'automcp')?.description).toContain('automatic_eval → bench.echo');
  }, 120_000);

  it('prints one line per path for a person', async () => {
    const echo = fixtureServer('echo');
    const result = await runCli(['bench', 'overhead', '--calls', '3', '--warmup', '0', '--', echo.command!, ...echo.args!]);
    expect(result.code).toBe(0);
    for (const path of ['relay', 'sdk-proxy', 'automcp', 'in-memory']) {
      expect(result.stdout).toMatch(new RegExp(`^${path} +p50 [\\d.]+ ms · p95 [\\d.]+ ms · adds -?[\\d.]+ ms at p50`, 'm'));
    }
    expect(result.stdout).toMatch(/^direct +p50 [\d.]+ ms · p95 [\d.]+ ms {2}\(MCP client → server\)$/m);
  }, 120_000);

  it('fails clearly when the tool call fails', async () => {
    const echo = fixtureServer('echo');
    const result = await runCli([
      'bench',
      'overhead',
      '--calls',
      '1',
      '--warmup',
      '0',
      '--tool',
      'fail',
      '--',
      echo.command!,
      ...echo.args!,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the (direct|relay|sdk-proxy|automcp|in-memory) call failed/);
  }, 120_000);
});

describe('automcp bench startup', () => {
  it('spawns serve N times after warming the catalog cache and reports tools/list time and RSS', async () => {
    const config = await writeConfigDir({
      runtime: { servers: { echo: fixtureServer('echo') } },
      profiles: { default: {} },
      dir: join(dir, 'startup'),
    });
    const started = performance.now();
    const result = await runCli(['bench', 'startup', '--runs', '2', '--config', config.dir, '--json']);
    const wallMs = performance.now() - started;
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as StartupReport;
    expect(report.runs).toBe(2);
    expect(report.config).toBe(config.runtimeFile);
    expect(report.samples).toHaveLength(2);
    for (const sample of report.samples) {
      // Each run is a real process start, inside the command's own run, answered by a gateway that
      // holds at least what an empty node process does.
      expect(sample.toolsListMs).toBeGreaterThan(0);
      expect(sample.toolsListMs).toBeLessThan(wallMs);
      expect(sample.selectionMs).toBeGreaterThan(0);
      expect(sample.rssMB).toBeGreaterThan(20);
    }
    const times = report.samples.map((sample) => sample.toolsListMs).sort((a, b) => a - b);
    expect(report.toolsListMs).toEqual({ min: times[0], median: times[0], max: times[1] });
  }, 120_000);

  it('prints min, median and max for a person', async () => {
    const config = await writeConfigDir({
      runtime: { servers: { echo: fixtureServer('echo') } },
      profiles: { default: {} },
      dir: join(dir, 'startup-table'),
    });
    const result = await runCli(['bench', 'startup', '--runs', '1', '--config', config.dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^start-up: 1 runs of `serve` with a warm catalog cache/);
    expect(result.stdout).toMatch(/spawn → tools\/list\s+min\s+\d+ · median\s+\d+ · max\s+\d+ ms/);
    expect(result.stdout).toMatch(/gateway RSS after it\s+min\s+[\d.]+ · median\s+[\d.]+ · max\s+[\d.]+ MB/);
  }, 120_000);
});
