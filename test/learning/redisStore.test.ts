/**
 * The Redis store of learned evidence against a real redis-server: the decay-aware add inside Redis,
 * the per-profile cap (least recently changed pairs go first), change detection, forgetting and the
 * profile list.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEvidenceStore } from '../../src/learning/redisStore.js';
import { startRedisServer, type RedisServer } from '../helpers/redis.js';

const DAY = 86_400_000;
let redis: RedisServer;
let store: RedisEvidenceStore;

beforeAll(async () => {
  redis = await startRedisServer();
  store = new RedisEvidenceStore({
    url: redis.url,
    keyPrefix: `t${randomBytes(3).toString('hex')}:`,
    halfLifeMs: 10 * DAY,
    maxEntries: 3,
  });
  expect(await store.ready(10_000)).toBe(true);
}, 60_000);

afterAll(async () => {
  await store?.close();
  await redis?.close();
});

const t0 = Date.UTC(2026, 0, 1);

describe('Redis evidence store', () => {
  it('adds to the decayed weight, caps the pairs per profile and reports changes only', async () => {
    await store.push('p', [{ term: 'apartment', tool: 'rent.search', weight: 2, at: t0 }]);
    // Ten days (one half-life) later: 2 has become 1, plus 1.
    await store.push('p', [{ term: 'apartment', tool: 'rent.search', weight: 1, at: t0 + 10 * DAY }]);
    let entries = (await store.pull('p'))!;
    expect(entries).toHaveLength(1);
    expect(entries[0]!.weight).toBeCloseTo(2);
    expect(entries[0]!.at).toBe(t0 + 10 * DAY);
    expect(await store.pull('p')).toBeUndefined();

    await store.push('p', [
      { term: 'studio', tool: 'rent.search', weight: 1, at: t0 + 11 * DAY },
      { term: 'flat', tool: 'rent.search', weight: 1, at: t0 + 12 * DAY },
      { term: 'rain', tool: 'weather.now', weight: 1, at: t0 + 13 * DAY },
    ]);
    entries = (await store.pull('p'))!;
    expect(entries.map((entry) => entry.term)).toEqual(['studio', 'flat', 'rain']);
    expect(await store.profiles()).toEqual(['p']);
  });

  it('forgets one tool, then everything, per profile', async () => {
    await store.push('q', [{ term: 'rain', tool: 'weather.now', weight: 1, at: t0 }]);
    expect(await store.forget('p', 'rent.search')).toBe(2);
    expect((await store.pull('p'))!.map((entry) => entry.tool)).toEqual(['weather.now']);
    expect(await store.forget('p')).toBe(1);
    expect(await store.pull('p')).toEqual([]);
    expect(await store.profiles()).toEqual(['q']);
    expect((await store.pull('q'))!).toHaveLength(1);
  });
});
