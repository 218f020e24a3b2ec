/** The dashboard's views of run traces: one run's ranking rows, and the savings series over time. */
import { describe, expect, it } from 'vitest';
import type { EvalTrace, SelectionTrace } from '../../src/traces/record.js';
import { rankingRows, savingsSeries } from '../../src/ui/views.js';

function selection(time: string, extra: Partial<SelectionTrace> = {}): SelectionTrace {
  return {
    kind: 'selection',
    runId: `r_${time}`,
    time,
    caller: 'alice',
    profile: 'default',
    request: { query: 'read a file', limit: 2, fresh: false },
    mode: 'lexical',
    etag: 'e1',
    totalAvailable: 10,
    candidates: [
      { rank: 1, name: 'fs.read', score: 3.14159 },
      { rank: 2, name: 'fs.list', score: 2 },
      { rank: 3, name: 'fs.write', score: 1 },
    ],
    chosen: ['fs.read', 'fs.list'],
    sent: { full: 2, unchanged: 0 },
    durationMs: 3,
    ...extra,
  };
}

const anEval: EvalTrace = {
  kind: 'eval',
  runId: 'r_e',
  time: '2026-01-10T10:00:00.000Z',
  caller: 'alice',
  profile: 'default',
  tool: 'fs.read',
  outcome: 'ok',
  durationMs: 1,
};

describe('rankingRows', () => {
  it('lays the lexical rows the model saw beside its choice and reasons', () => {
    const run = selection('2026-01-10T10:00:00.000Z', {
      mode: 'llm',
      chosen: ['fs.write'],
      llm: {
        model: 'openai:m',
        candidates: 3,
        chosen: [{ name: 'fs.write', reason: 'it writes' }],
        dropped: [],
        cached: false,
        latencyMs: 5,
      },
    });
    expect(rankingRows(run)).toEqual([
      { rank: 1, lexical: { name: 'fs.read', score: 3.14, selected: false }, choice: { name: 'fs.write', reason: 'it writes' } },
      { rank: 2, lexical: { name: 'fs.list', score: 2, selected: false } },
      { rank: 3, lexical: { name: 'fs.write', score: 1, selected: true } },
    ]);
  });

  it('shows only the ranking that stood when no model took part', () => {
    expect(rankingRows(selection('2026-01-10T10:00:00.000Z')).map((row) => [row.lexical?.name, row.choice])).toEqual([
      ['fs.read', undefined],
      ['fs.list', undefined],
    ]);
  });
});

describe('savingsSeries', () => {
  it('sums tokens and names-only hits per time bucket, leaving records without counts out of the tokens', () => {
    const savings = savingsSeries([
      anEval,
      selection('2026-01-10T10:00:10.000Z', { tokens: { sent: 100, catalog: 1000 } }),
      selection('2026-01-10T10:00:50.000Z', { tokens: { sent: 20, catalog: 1000 }, sent: { full: 0, unchanged: 2 } }),
      selection('2026-01-10T10:05:00.000Z'),
      selection('2026-01-10T10:10:30.000Z', { tokens: { sent: 50, catalog: 900 } }),
    ]);
    expect(savings.bucketMs).toBe(60_000);
    expect(savings.buckets).toEqual([
      { start: '2026-01-10T10:00:00.000Z', selections: 2, sent: 120, catalog: 2000, namesOnly: 2 },
      { start: '2026-01-10T10:05:00.000Z', selections: 1, sent: 0, catalog: 0, namesOnly: 0 },
      { start: '2026-01-10T10:10:00.000Z', selections: 1, sent: 50, catalog: 900, namesOnly: 0 },
    ]);
    expect(savings.totals).toEqual({ selections: 4, counted: 3, sent: 170, catalog: 2900, namesOnly: 2, full: 6 });
  });

  it('widens the buckets so a long span fits the chart', () => {
    const savings = savingsSeries([selection('2026-01-01T00:00:00.000Z'), selection('2026-01-05T12:00:00.000Z')], 48);
    expect(savings.bucketMs).toBe(6 * 3_600_000);
    expect(savings.buckets.map((bucket) => bucket.start)).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-05T12:00:00.000Z']);
  });

  it('is empty without selections', () => {
    expect(savingsSeries([anEval])).toMatchObject({ buckets: [], totals: { selections: 0 } });
  });
});
