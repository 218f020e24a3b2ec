/**
 * The trace store on its own: appends return before anything is written, segments rotate by size and
 * by age (an injected clock, and file times set as if days had passed), pruning keeps the folder within
 * its byte budget, the buffer is bounded, and `since` words parse.
 */
import { appendFile, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSince } from '../../src/traces/query.js';
import type { EvalTrace } from '../../src/traces/record.js';
import { createTraceStore, openTraceReader, type TraceStore } from '../../src/traces/store.js';
import { makeTempDir } from '../helpers/config.js';
import { capturedLogger } from '../helpers/inprocess.js';

const DAY = 86_400_000;

let dir: string;
let store: TraceStore | undefined;
beforeEach(async () => {
  dir = join(await makeTempDir('automcp-trace-store-'), 'runs');
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  await rm(join(dir, '..'), { recursive: true, force: true });
});

/** A clock starting at the real time, so file times and the clock agree until the test moves it. */
function clock() {
  let now = Date.now();
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function record(n: number, time: number, padding = 0): EvalTrace {
  return {
    kind: 'eval',
    runId: `r_${String(n).padStart(8, '0')}`,
    time: new Date(time).toISOString(),
    caller: 'alice',
    profile: 'default',
    session: `s-${'x'.repeat(padding)}`,
    tool: 'notes.save_note',
    outcome: 'ok',
    durationMs: 1,
  };
}

async function segments(): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.jsonl')).sort();
}

async function folderBytes(): Promise<number> {
  let total = 0;
  for (const name of await segments()) total += (await stat(join(dir, name))).size;
  return total;
}

describe('the trace store', () => {
  it('returns from append before anything is written, and writes on its timer or a flush', async () => {
    const { logger } = capturedLogger();
    store = createTraceStore({ dir, maxBytes: 1_000_000, maxAgeMs: DAY, logger, flushDelayMs: 60_000 });
    store.append(record(1, Date.now()));
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    await store.flush();
    const [name] = await segments();
    expect(JSON.parse(await readFile(join(dir, name!), 'utf8'))).toMatchObject({ runId: 'r_00000001' });
  });

  it('flushes by itself shortly after an append', async () => {
    const { logger } = capturedLogger();
    store = createTraceStore({ dir, maxBytes: 1_000_000, maxAgeMs: DAY, logger, flushDelayMs: 5 });
    store.append(record(1, Date.now()));
    await expect.poll(async () => (await openTraceReader(dir).list()).length).toBe(1);
  });

  it('rotates by size and deletes the oldest segments beyond maxBytes', async () => {
    const { logger } = capturedLogger();
    const time = clock();
    // Segments hold at most an eighth of the budget: 8,000 bytes, about 15 records of ~500 bytes.
    store = createTraceStore({ dir, maxBytes: 64_000, maxAgeMs: 7 * DAY, logger, now: time.now });
    for (let n = 0; n < 400; n++) {
      store.append(record(n, time.now(), 300));
      if (n % 5 === 4) await store.flush();
    }
    await store.flush();
    const names = await segments();
    expect(names.length).toBeGreaterThan(5);
    // Within the budget, give or take the segment being written.
    expect(await folderBytes()).toBeLessThanOrEqual(64_000 + 8_000);
    const kept = await store.list({ limit: 1000 });
    expect(kept[0]!.runId).toBe('r_00000399');
    expect(kept.length).toBeLessThan(400);
    // What is kept is the newest, without gaps.
    const numbers = kept.map((entry) => Number(entry.runId.slice(2)));
    expect(numbers).toEqual(numbers.map((_, index) => 399 - index));
    expect(await store.get('r_00000000')).toBeUndefined();
  });

  it('rotates by age and deletes segments last written more than maxAgeMs ago', async () => {
    const { logger } = capturedLogger();
    const time = clock();
    const start = time.now();
    store = createTraceStore({ dir, maxBytes: 10_000_000, maxAgeMs: 7 * DAY, logger, now: time.now });
    store.append(record(1, time.now()));
    await store.flush();
    const [first] = await segments();
    // Three days on: the day-old segment is closed and a new one begun; nothing is old enough to go.
    time.advance(3 * DAY);
    store.append(record(2, time.now()));
    await store.flush();
    const [, second] = await segments();
    expect(await segments()).toHaveLength(2);
    // Each file was last written when its record was (as it would be, had the days really passed).
    await utimes(join(dir, first!), new Date(start), new Date(start));
    await utimes(join(dir, second!), new Date(start + 3 * DAY), new Date(start + 3 * DAY));
    // Eight days after the first record: its segment is past seven days and goes; the second stays.
    time.advance(5 * DAY);
    store.append(record(3, time.now()));
    await store.flush();
    expect(await segments()).not.toContain(first);
    expect(await segments()).toContain(second);
    expect((await store.list()).map((entry) => entry.runId)).toEqual(['r_00000003', 'r_00000002']);
  });

  it('bounds its buffer: records beyond it are dropped with one warning', async () => {
    const { logger, records } = capturedLogger();
    store = createTraceStore({ dir, maxBytes: 1_000_000, maxAgeMs: DAY, logger, flushDelayMs: 60_000, maxBuffered: 10 });
    for (let n = 0; n < 25; n++) store.append(record(n, Date.now()));
    await store.flush();
    expect(await store.list({ limit: 100 })).toHaveLength(10);
    expect(records.filter((line) => String(line.msg).startsWith('run traces are written too slowly'))).toHaveLength(1);
  });

  it('reads records of every process sharing the folder, skipping a torn line', async () => {
    const { logger } = capturedLogger();
    const time = clock();
    const one = createTraceStore({ dir, maxBytes: 1_000_000, maxAgeMs: DAY, logger, now: time.now });
    store = createTraceStore({ dir, maxBytes: 1_000_000, maxAgeMs: DAY, logger, now: time.now });
    one.append(record(1, time.now()));
    time.advance(1_000);
    store.append(record(2, time.now()));
    time.advance(1_000);
    one.append(record(3, time.now()));
    await one.close();
    await store.flush();
    expect(await segments()).toHaveLength(2);
    // A write cut short by a crash leaves half a line behind.
    await appendFile(join(dir, (await segments())[0]!), '{"kind":"eval","runId":"r_torn');
    expect((await store.list()).map((entry) => entry.runId)).toEqual(['r_00000003', 'r_00000002', 'r_00000001']);
  });
});

describe('parseSince', () => {
  const now = Date.parse('2026-06-01T12:00:00Z');
  it('reads durations back from now and ISO dates', () => {
    expect(parseSince('90s', now)).toBe(now - 90_000);
    expect(parseSince('15m', now)).toBe(now - 900_000);
    expect(parseSince('1h', now)).toBe(now - 3_600_000);
    expect(parseSince('2d', now)).toBe(now - 2 * DAY);
    expect(parseSince('1w', now)).toBe(now - 7 * DAY);
    expect(parseSince('2026-05-31', now)).toBe(Date.parse('2026-05-31'));
    expect(parseSince('2026-05-31T10:00:00Z', now)).toBe(Date.parse('2026-05-31T10:00:00Z'));
  });
  it('refuses anything else', () => {
    for (const text of ['', 'yesterday', '1y', '-1h', '1.5h', '12', '2026-13-45']) expect(parseSince(text, now)).toBeUndefined();
  });
});
