import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/bench/dataset.js';
import { OracleChatModel } from '../../src/bench/oracle.js';
import { runSelectionBench } from '../../src/bench/selection.js';
import { REPO_ROOT } from '../helpers/config.js';
import { choose, ScriptedChatModel, type RecordedCall } from '../helpers/fakeChatModels.js';
import { makeProfile } from '../helpers/inprocess.js';

const TINY = join(REPO_ROOT, 'test', 'fixtures', 'datasets', 'tiny.json');
const profile = makeProfile('default');

describe('bench selection with the server-first stage', () => {
  it('a lexical server pick costs no call; the report sets its candidate recall against the same run without it', async () => {
    const dataset = await loadDataset(TINY);
    const model = { chat: new OracleChatModel(dataset.queries), label: 'oracle', timeoutMs: 5_000, oracle: true };
    const plain = await runSelectionBench({ dataset, profile, ks: [5], candidates: 4, model });
    const staged = await runSelectionBench({ dataset, profile, ks: [5], candidates: 4, model, serverFirst: 'lexical' });
    expect(plain.stage).toBeUndefined();
    expect(staged.stage).toMatchObject({ serverFirst: 'lexical', rewrite: false });
    expect(staged.stage!.candidateRecallWithout).toBeCloseTo(plain.candidateRecall.recall, 10);
    expect(staged.modelPath!.callsPerSelection).toBeCloseTo(plain.modelPath!.callsPerSelection, 10);
    expect(staged.stage!.serverPromptTokens.mean).toBeGreaterThan(20);
    expect(staged.stage!.shownServerRecall).toBeGreaterThan(0);
    expect(staged.stage!.shownServerRecall).toBeLessThanOrEqual(1);
  });

  it('the oracle picks the servers of the labelled tools: the stage’s ceiling, at two calls per selection', async () => {
    const dataset = await loadDataset(TINY);
    const model = { chat: new OracleChatModel(dataset.queries), label: 'oracle', timeoutMs: 5_000, oracle: true };
    const plain = await runSelectionBench({ dataset, profile, ks: [5], candidates: 2, model });
    const staged = await runSelectionBench({ dataset, profile, ks: [5], candidates: 2, model, serverFirst: true });
    // Two calls every time: "zebra quantum saxophone" shares no word with any tool, yet its labelled
    // tool's server is picked, so it now has candidates to choose from.
    expect(plain.modelPath!.callsPerSelection).toBeLessThan(1);
    expect(staged.modelPath!.callsPerSelection).toBe(2);
    expect(staged.stage!.candidateRecallWithout).toBeCloseTo(plain.candidateRecall.recall, 10);
    expect(staged.candidateRecall.recall).toBeGreaterThan(staged.stage!.candidateRecallWithout);
  });

  it('with decompose always, the needs ride in the server call: still two calls per selection', async () => {
    const dataset = await loadDataset(TINY);
    const model = { chat: new OracleChatModel(dataset.queries), label: 'oracle', timeoutMs: 5_000, oracle: true };
    const report = await runSelectionBench({
      dataset,
      profile,
      ks: [5],
      candidates: 2,
      model,
      decompose: 'always',
      serverFirst: true,
    });
    expect(report.modelPath!.callsPerSelection).toBe(2);
    expect(report.modelPath!.fallbacks).toBe(0);
  });

  it('the run without the stage asks the model for nothing: a provider is paid only for the measured run', async () => {
    const dataset = await loadDataset(TINY);
    const calls: RecordedCall[] = [];
    const model = {
      chat: new ScriptedChatModel([choose('files.read_file')], calls),
      label: 'scripted',
      timeoutMs: 5_000,
      oracle: false,
    };
    const report = await runSelectionBench({ dataset, profile, ks: [5], candidates: 4, model, serverFirst: 'lexical' });
    // Every call the model received is one the report counts (plus the one unmeasured warm-up selection).
    expect(calls.length).toBe(Math.round(report.modelPath!.callsPerSelection * report.queries) + 1);
    expect(report.stage).toBeDefined();
  });
});
