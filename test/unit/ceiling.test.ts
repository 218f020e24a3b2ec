import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/bench/dataset.js';
import { OracleChatModel } from '../../src/bench/oracle.js';
import { runSelectionBench } from '../../src/bench/selection.js';
import { REPO_ROOT } from '../helpers/config.js';
import { makeProfile } from '../helpers/inprocess.js';

const TINY = join(REPO_ROOT, 'test', 'fixtures', 'datasets', 'tiny.json');
const profile = makeProfile('default');

describe('the model path ceiling (bench selection --model oracle)', () => {
  it('lexical runs report candidate recall and no model path', async () => {
    const dataset = await loadDataset(TINY);
    const report = await runSelectionBench({ dataset, profile, ks: [1, 5], candidates: 40 });
    expect(report.modelPath).toBeUndefined();
    // "zebra quantum saxophone" shares no word with any tool: nothing to show for it.
    expect(report.candidateRecall).toEqual({ candidates: 40, recall: 0.8 });
  });

  it('the oracle picks exactly the labelled tools it is shown: its Recall@5 is the candidate recall', async () => {
    const dataset = await loadDataset(TINY);
    const model = { chat: new OracleChatModel(dataset.queries), label: 'oracle', timeoutMs: 5_000, oracle: true };
    const report = await runSelectionBench({ dataset, profile, ks: [1, 5], candidates: 40, model });
    const recall5 = report.metrics.find((m) => m.k === 5)!.recall;
    expect(recall5).toBeCloseTo(report.candidateRecall.recall, 10);
    expect(report.modelPath).toMatchObject({ model: 'oracle', oracle: true, fallbacks: 0 });
    // The query with no candidate costs no call.
    expect(report.modelPath!.callsPerSelection).toBeGreaterThan(0);
    expect(report.modelPath!.callsPerSelection).toBeLessThan(1);
    expect(report.modelPath!.promptTokens.mean).toBeGreaterThan(50);
    expect(report.modelPath!.promptTokens.p95).toBeGreaterThanOrEqual(report.modelPath!.promptTokens.mean);
  });

  it('shown none of its labels, the oracle chooses nothing and the node falls back to the lexical order', async () => {
    const dataset = await loadDataset(TINY);
    const model = { chat: new OracleChatModel(dataset.queries), label: 'oracle', timeoutMs: 5_000, oracle: true };
    const report = await runSelectionBench({ dataset, profile, ks: [5], candidates: 1, model });
    // One candidate shown: the two-tool query reaches one of its two tools at most.
    expect(report.candidateRecall.recall).toBeLessThan(0.8);
    expect(report.modelPath!.fallbacks).toBeGreaterThan(0);
    expect(report.metrics[0]!.recall).toBeGreaterThanOrEqual(report.candidateRecall.recall);
  });

  it('with decompose always, the oracle answers the needs call with the written needs: two calls per selection', async () => {
    const dataset = await loadDataset(TINY);
    const queries = dataset.queries.map((query) =>
      query.expected.length === 2 ? { ...query, needs: ['weather forecast for a city', 'create a calendar event'] } : query,
    );
    const labelled = { ...dataset, queries };
    const model = { chat: new OracleChatModel(queries), label: 'oracle', timeoutMs: 5_000, oracle: true };
    const one = await runSelectionBench({ dataset: labelled, profile, ks: [5], candidates: 40, model });
    const two = await runSelectionBench({ dataset: labelled, profile, ks: [5], candidates: 40, model, decompose: 'always' });
    expect(two.modelPath!.callsPerSelection).toBeGreaterThan(one.modelPath!.callsPerSelection);
    expect(two.modelPath!.callsPerSelection).toBeLessThanOrEqual(2);
    expect(two.candidateRecall.recall).toBeGreaterThanOrEqual(one.candidateRecall.recall);
    expect(two.metrics[0]!.recall).toBeCloseTo(two.candidateRecall.recall, 10);
  });
});
