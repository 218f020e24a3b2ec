/**
 * `automcp bench stuffing`, run from the built CLI on the tiny fixtures laid out as the dev suite's
 * three files: every set, every way of stuffing and the three rankers, as JSON and as a table.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StuffingSet } from '../src/bench/stuffing.js';
import { RESISTED_WAYS, STUFFING_WAYS, type StuffingWay } from '../src/bench/stuffed.js';
import { runCli } from './helpers/gateway.js';
import { makeTempDir, REPO_ROOT } from './helpers/config.js';

const TINY = join(REPO_ROOT, 'test', 'fixtures', 'datasets', 'tiny.json');
const DISTRACTORS = join(REPO_ROOT, 'test', 'fixtures', 'datasets', 'distractors.json');

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('automcp-stuffing-int-');
  await mkdir(join(dir, 'suite'), { recursive: true });
  const tiny = await readFile(TINY, 'utf8');
  await writeFile(join(dir, 'suite', 'metatool.json'), tiny);
  await writeFile(join(dir, 'suite', 'toolgym-tasks.json'), tiny);
  await writeFile(join(dir, 'suite', 'toolgym-catalog.json'), await readFile(DISTRACTORS, 'utf8'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('automcp bench stuffing', () => {
  it('reports each set without a stuffed tool and with each way of stuffing, for three rankers', async () => {
    const result = await runCli(['bench', 'stuffing', '--datasets', join(dir, 'suite'), '--half', 'odd', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      half: string;
      worst: Record<'automcp' | 'undefended' | 'bm25', number>;
      sets: StuffingSet[];
    };
    expect(report.half).toBe('odd');
    expect(report.sets).toHaveLength(4);
    for (const set of report.sets) {
      expect(set.rows.map((row) => row.way)).toEqual(['none', ...STUFFING_WAYS]);
      const [clean, ...stuffed] = set.rows;
      // Without a stuffed tool in the catalog, it can be in no list.
      for (const ranker of ['automcp', 'undefended', 'bm25'] as const) expect(clean![ranker].top).toBe(0);
      for (const row of stuffed) {
        for (const ranker of ['automcp', 'undefended', 'bm25'] as const) {
          expect(row[ranker].first).toBeLessThanOrEqual(row[ranker].top);
          expect(row[ranker].top).toBeLessThanOrEqual(1);
        }
      }
    }
    // The worst share is over the ways the ranker resists: top40, its known limit, is left out.
    for (const ranker of ['automcp', 'undefended', 'bm25'] as const) {
      const shares = report.sets.flatMap((set) =>
        set.rows.filter((row) => RESISTED_WAYS.includes(row.way as StuffingWay)).map((row) => row[ranker].top),
      );
      expect(report.worst[ranker]).toBe(Math.max(...shares));
    }
  }, 120_000);

  it('prints one table per set and the worst share', async () => {
    const result = await runCli(['bench', 'stuffing', '--half', 'even'], { AUTOMCP_DATASETS: join(dir, 'suite') });
    expect(result.code).toBe(0);
    expect(result.stdout.match(/^no stuffing(\s+\d\.\d{3}\s+—\s+—){3}$/gm)).toHaveLength(4);
    expect(result.stdout.match(/^top400(\s+\d\.\d{3}\s+\d+\.\d%\s+\d+\.\d%){3}$/gm)).toHaveLength(4);
    expect(result.stdout).toMatch(
      /^most top-5 lists with a stuffed tool .*: automcp \d+\.\d% · without breadth \d+\.\d% · plain BM25 \d+\.\d%$/m,
    );
  }, 120_000);
});
