import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogOf, DatasetError, loadDataset, parseDataset, type Dataset } from '../../src/bench/dataset.js';
import { completeAt, percentile, recallAt, RecallTally, serverRecallAt } from '../../src/bench/metrics.js';
import { runSelectionBench } from '../../src/bench/selection.js';
import { loadHasher } from '../../src/catalog/hash.js';
import { countJsonTokens } from '../../src/tokens/count.js';
import { REPO_ROOT } from '../helpers/config.js';
import { makeProfile } from '../helpers/inprocess.js';

const TINY = join(REPO_ROOT, 'test', 'fixtures', 'datasets', 'tiny.json');
const DISTRACTORS = join(REPO_ROOT, 'test', 'fixtures', 'datasets', 'distractors.json');

describe('metrics (CONTRACT §5)', () => {
  const expected = [['a.x', 'b.x'], ['c.y']];

  it('Recall@k: share of required tools with any of their names in the first k', () => {
    expect(recallAt(['b.x', 'z.z', 'c.y'], expected, 1)).toBe(0.5);
    expect(recallAt(['b.x', 'z.z', 'c.y'], expected, 3)).toBe(1);
    expect(recallAt([], expected, 5)).toBe(0);
  });

  it('Complete@k: 1 only when every required tool is in the first k', () => {
    expect(completeAt(['a.x', 'c.y'], expected, 1)).toBe(0);
    expect(completeAt(['a.x', 'c.y'], expected, 2)).toBe(1);
  });

  it('server recall@k: a required tool counts when its server is among the first k servers', () => {
    expect(serverRecallAt(['a.other', 'c.other'], expected, 2)).toBe(1);
    expect(serverRecallAt(['a.other', 'c.other'], expected, 1)).toBe(0.5);
    expect(serverRecallAt(['d.x'], expected, 5)).toBe(0);
  });

  it('percentiles by nearest rank', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 95)).toBe(10);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([], 50)).toBe(0);
  });

  it('the tally averages per query', () => {
    const tally = new RecallTally([1, 2]);
    tally.add(['a.x', 'c.y'], expected);
    tally.add(['z.z'], [['c.y']]);
    expect(tally.queries).toBe(2);
    expect(tally.summary()).toEqual([
      { k: 1, recall: 0.25, complete: 0, serverRecall: 0.25 },
      { k: 2, recall: 0.5, complete: 0.5, serverRecall: 0.5 },
    ]);
  });
});

describe('datasets', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'automcp-bench-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the CONTRACT §5 format, with defaults for what a file leaves out', async () => {
    const dataset = await loadDataset(TINY);
    expect(dataset.name).toBe('tiny');
    expect(dataset.servers.map((server) => server.name)).toEqual(['files', 'mail', 'weather', 'calendar']);
    expect(dataset.queries[2]?.expected).toEqual([['weather.get_forecast'], ['calendar.create_event']]);
    const bare = parseDataset('bare.json', { servers: [{ name: 's', tools: [{ name: 't' }] }] });
    expect(bare.queries).toEqual([]);
    expect(bare.servers[0]?.tools[0]).toMatchObject({ name: 't', description: '', inputSchema: { type: 'object' } });
  });

  it('names the file and the path of what is wrong', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({ servers: [{ name: 'bad name', tools: [] }], queries: [{ id: 1, query: 'x', expected: [] }] }),
    );
    const error = await loadDataset(file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain('.servers[0].name');
    expect((error as Error).message).toContain('.queries[0].expected');
  });

  it('says when a file is missing or not JSON', async () => {
    await expect(loadDataset(join(dir, 'missing.json'))).rejects.toThrow(/cannot read/);
    const file = join(dir, 'broken.json');
    await writeFile(file, '{"servers": [');
    await expect(loadDataset(file)).rejects.toThrow(/not valid JSON/);
  });

  it('refuses one server name in two files', async () => {
    const hasher = await loadHasher();
    const tiny = await loadDataset(TINY);
    const clash: Dataset = parseDataset('clash.json', { servers: [{ name: 'mail', tools: [{ name: 'other' }] }] });
    expect(() => catalogOf({ datasets: [tiny, clash], hasher })).toThrow(/server "mail" is also defined in/);
    expect(catalogOf({ datasets: [tiny, await loadDataset(DISTRACTORS)], hasher }).tools()).toHaveLength(7);
  });
});

describe('runSelectionBench', () => {
  const profile = makeProfile('default');

  it('scores every query through automatic_mcp', async () => {
    const dataset = await loadDataset(TINY);
    const report = await runSelectionBench({ dataset, profile, ks: [1, 5], candidates: 40 });
    expect(report.queries).toBe(5);
    expect(report.tools).toBe(5);
    // q1, q2: hit at 1. q3: one of two at 1, both by 5. q4: no word matches, so nothing is selected.
    // q5: "read contents from disk" wants write_file; read_file comes first, from the same server.
    expect(report.metrics).toEqual([
      { k: 1, recall: (1 + 1 + 0.5 + 0 + 0) / 5, complete: 2 / 5, serverRecall: (1 + 1 + 0.5 + 0 + 1) / 5 },
      { k: 5, recall: 4 / 5, complete: 4 / 5, serverRecall: 4 / 5 },
    ]);
    // Every required tool but q4's shares a term with its query; q5's does (contents, disk) though it is
    // ranked second, so reach bounds recall from above without being recall.
    expect(report.lexicalReach).toBe(4 / 5);
    expect(report.tokens.limit).toBe(5);
    expect(report.tokens.fullCatalog).toBe(countJsonTokens(dataset.servers.flatMap((server) => definitionsOf(server))));
    expect(report.tokens.meanResponse).toBeGreaterThan(0);
    expect(report.tokens.share).toBeCloseTo(report.tokens.meanResponse / report.tokens.fullCatalog, 10);
    expect(report.latencyMs.p95).toBeGreaterThanOrEqual(report.latencyMs.p50);
    expect(report.peakRssMB).toBeGreaterThan(0);
  });

  it('distractors join the catalog but bring no queries', async () => {
    const dataset = await loadDataset(TINY);
    const distractors = [await loadDataset(DISTRACTORS)];
    const report = await runSelectionBench({ dataset, distractors, profile, ks: [1], candidates: 40 });
    expect(report.tools).toBe(7);
    expect(report.servers).toBe(5);
    expect(report.queries).toBe(5);
    expect(report.distractors).toEqual([{ name: 'distractors', file: DISTRACTORS, skippedServers: 0 }]);
  });

  it('runs one half of the queries by position, or a sample spread over them', async () => {
    const dataset = await loadDataset(TINY);
    const even = await runSelectionBench({ dataset, profile, ks: [1], candidates: 40, half: 'even' });
    const odd = await runSelectionBench({ dataset, profile, ks: [1], candidates: 40, half: 'odd' });
    expect([even.queries, odd.queries]).toEqual([3, 2]);
    // Even positions are q1, q3, q5; odd are q2, q4.
    expect(even.metrics[0]?.recall).toBeCloseTo((1 + 0.5 + 0) / 3, 10);
    expect(odd.metrics[0]?.recall).toBe(0.5);
    // Two of five, evenly spread: q1 and q3.
    const sample = await runSelectionBench({ dataset, profile, ks: [1], candidates: 40, sample: 2 });
    expect(sample.queries).toBe(2);
    expect(sample.metrics[0]?.recall).toBe((1 + 0.5) / 2);
  });

  it('ranks within the profile: a hidden expected tool is a miss', async () => {
    const dataset = await loadDataset(TINY);
    const narrow = makeProfile('narrow', { tools: { deny: ['mail.*'] } });
    const report = await runSelectionBench({ dataset, profile: narrow, ks: [1], candidates: 40, half: 'odd', sample: 1 });
    expect(report.tools).toBe(4);
    expect(report.profile).toBe('narrow');
    // The one query run is q2, which wants the hidden mail.send_email.
    expect(report.queries).toBe(1);
    expect(report.metrics[0]?.recall).toBe(0);
    // A tool the profile hides is out of reach too.
    expect(report.lexicalReach).toBe(0);
  });

  it('refuses a k the automatic_mcp limit cannot reach', async () => {
    const dataset = await loadDataset(TINY);
    await expect(runSelectionBench({ dataset, profile, ks: [1, 51], candidates: 40 })).rejects.toThrow(/from 1 to 50/);
  });
});

function definitionsOf(server: Dataset['servers'][number]) {
  return server.tools.map((tool) => ({
    name: `${server.name}.${tool.name}`,
    description: tool.description,
    inputSchema: tool.inputSchema,
  }));
}
