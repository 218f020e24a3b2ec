/**
 * The conformance suite every SessionStore implementation runs. A store gets a controllable clock (for
 * expiry) and must keep callers apart, merge what it records, forget on demand and expire idle sessions.
 */
import { describe, expect, it } from 'vitest';
import type { SessionStore } from '../../src/session/store.js';

/** A clock the test moves by hand. */
export interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

export function createManualClock(start = 1_000): ManualClock {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

/** Builds a store with the given limits and clock; the suite closes nothing, so keep stores in-process or self-cleaning. */
export type StoreFactory = (options: { ttlSeconds: number; maxSessions: number; clock: ManualClock }) => Promise<SessionStore>;

export function sessionStoreConformance(name: string, createStore: StoreFactory): void {
  describe(`SessionStore conformance: ${name}`, () => {
    const key = { caller: 'alice', sessionId: 's1' };

    it('starts empty and remembers what it recorded, merging later records', async () => {
      const store = await createStore({ ttlSeconds: 60, maxSessions: 10, clock: createManualClock() });
      expect((await store.sent(key)).size).toBe(0);
      await store.record(key, [{ name: 'a.x', hash: '1111111111111111' }]);
      await store.record(key, [
        { name: 'a.y', hash: '2222222222222222' },
        { name: 'a.x', hash: '3333333333333333' },
      ]);
      const sent = await store.sent(key);
      expect(Object.fromEntries(sent)).toEqual({ 'a.x': '3333333333333333', 'a.y': '2222222222222222' });
    });

    it('keeps callers apart even with the same sessionId', async () => {
      const store = await createStore({ ttlSeconds: 60, maxSessions: 10, clock: createManualClock() });
      await store.record({ caller: 'alice', sessionId: 'same' }, [{ name: 'a.x', hash: '1111111111111111' }]);
      expect((await store.sent({ caller: 'bob', sessionId: 'same' })).size).toBe(0);
      expect((await store.sent({ caller: 'alice', sessionId: 'same' })).size).toBe(1);
    });

    it('forgets a session on demand and only that session', async () => {
      const store = await createStore({ ttlSeconds: 60, maxSessions: 10, clock: createManualClock() });
      const other = { caller: 'alice', sessionId: 's2' };
      await store.record(key, [{ name: 'a.x', hash: '1111111111111111' }]);
      await store.record(other, [{ name: 'a.x', hash: '1111111111111111' }]);
      await store.forget(key);
      expect((await store.sent(key)).size).toBe(0);
      expect((await store.sent(other)).size).toBe(1);
    });

    it('expires a session idle for longer than the TTL, and keeps one in use', async () => {
      const clock = createManualClock();
      const store = await createStore({ ttlSeconds: 10, maxSessions: 10, clock });
      const busy = { caller: 'alice', sessionId: 'busy' };
      await store.record(key, [{ name: 'a.x', hash: '1111111111111111' }]);
      await store.record(busy, [{ name: 'a.x', hash: '1111111111111111' }]);
      clock.advance(6_000);
      expect((await store.sent(busy)).size).toBe(1);
      clock.advance(6_000);
      expect((await store.sent(key)).size).toBe(0);
      expect((await store.sent(busy)).size).toBe(1);
    });

    it('holds at most maxSessions sessions, dropping the least recently used', async () => {
      const store = await createStore({ ttlSeconds: 60, maxSessions: 2, clock: createManualClock() });
      const entry = [{ name: 'a.x', hash: '1111111111111111' }];
      await store.record({ caller: 'c', sessionId: '1' }, entry);
      await store.record({ caller: 'c', sessionId: '2' }, entry);
      await store.sent({ caller: 'c', sessionId: '1' });
      await store.record({ caller: 'c', sessionId: '3' }, entry);
      expect(store.size()).toBe(2);
      expect((await store.sent({ caller: 'c', sessionId: '1' })).size).toBe(1);
      expect((await store.sent({ caller: 'c', sessionId: '2' })).size).toBe(0);
    });
  });
}
