/**
 * The conformance suite every SessionStore implementation runs. A store gets a clock the test moves by
 * hand (for expiry) and must keep callers apart, merge what it records, forget on demand, expire idle
 * sessions and stay within maxSessions.
 */
import { describe, expect, it } from 'vitest';
import type { SessionStore } from '../../src/session/store.js';

/** A clock the test moves by hand. Starts well above 0: lru-cache treats a start time of 0 as "no TTL". */
export class FakeClock {
  #now = 1_000_000;
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** Builds a fresh, empty store with these limits and clock. */
export type StoreFactory = (options: { ttlSeconds: number; maxSessions: number; clock: FakeClock }) => Promise<SessionStore>;

const A = { caller: 'alice', sessionId: 's1' };
const B = { caller: 'bob', sessionId: 's1' };
const asObject = (map: ReadonlyMap<string, string>) => Object.fromEntries(map);

/** Registers the suite for one implementation. */
export function sessionStoreConformance(name: string, createStore: StoreFactory): void {
  async function store(options: { ttlSeconds?: number; maxSessions?: number } = {}) {
    const clock = new FakeClock();
    const sessions = await createStore({ ttlSeconds: options.ttlSeconds ?? 60, maxSessions: options.maxSessions ?? 100, clock });
    return { clock, sessions };
  }

  describe(`SessionStore conformance: ${name}`, () => {
    it('returns an empty map for an unknown session without creating it', async () => {
      const { sessions } = await store();
      expect((await sessions.sent(A)).size).toBe(0);
      expect(sessions.size()).toBe(0);
    });

    it('records what was sent and merges later records', async () => {
      const { sessions } = await store();
      await sessions.record(A, [
        { name: 'fs.read', hash: 'h1' },
        { name: 'fs.write', hash: 'h2' },
      ]);
      await sessions.record(A, [
        { name: 'fs.read', hash: 'h1b' },
        { name: 'mem.search', hash: 'h3' },
      ]);
      expect(asObject(await sessions.sent(A))).toEqual({ 'fs.read': 'h1b', 'fs.write': 'h2', 'mem.search': 'h3' });
      expect(sessions.size()).toBe(1);
    });

    it('forget drops the session', async () => {
      const { sessions } = await store();
      await sessions.record(A, [{ name: 'fs.read', hash: 'h1' }]);
      await sessions.forget(A);
      expect((await sessions.sent(A)).size).toBe(0);
      expect(sessions.size()).toBe(0);
      await expect(sessions.forget(A)).resolves.toBeUndefined();
    });

    it('keeps sessions of different callers apart even with the same sessionId', async () => {
      const { sessions } = await store();
      await sessions.record(A, [{ name: 'fs.read', hash: 'h1' }]);
      expect((await sessions.sent(B)).size).toBe(0);
      await sessions.record(B, [{ name: 'fs.write', hash: 'h2' }]);
      expect(asObject(await sessions.sent(A))).toEqual({ 'fs.read': 'h1' });
      expect(asObject(await sessions.sent(B))).toEqual({ 'fs.write': 'h2' });
      await sessions.forget(A);
      expect(asObject(await sessions.sent(B))).toEqual({ 'fs.write': 'h2' });
    });

    it('keeps different sessionIds of one caller apart', async () => {
      const { sessions } = await store();
      await sessions.record(A, [{ name: 'fs.read', hash: 'h1' }]);
      expect((await sessions.sent({ caller: 'alice', sessionId: 's2' })).size).toBe(0);
    });

    it('expires a session ttlSeconds after its last use', async () => {
      const { clock, sessions } = await store({ ttlSeconds: 60 });
      await sessions.record(A, [{ name: 'fs.read', hash: 'h1' }]);
      clock.advance(60_001);
      expect((await sessions.sent(A)).size).toBe(0);
      expect(sessions.size()).toBe(0);
    });

    it('keeps a session alive while it is used (updateAgeOnGet)', async () => {
      const { clock, sessions } = await store({ ttlSeconds: 60 });
      await sessions.record(A, [{ name: 'fs.read', hash: 'h1' }]);
      for (let i = 0; i < 5; i++) {
        clock.advance(50_000);
        expect((await sessions.sent(A)).get('fs.read'), `read ${i}`).toBe('h1');
      }
      // 250 s after it was recorded, but only 50 s after its last use.
      clock.advance(61_000);
      expect((await sessions.sent(A)).size).toBe(0);
    });

    it('a session just under the TTL survives', async () => {
      const { clock, sessions } = await store({ ttlSeconds: 60 });
      await sessions.record(A, [{ name: 'fs.read', hash: 'h1' }]);
      clock.advance(59_999);
      expect((await sessions.sent(A)).get('fs.read')).toBe('h1');
    });

    it('an expired session starts over when recorded again', async () => {
      const { clock, sessions } = await store({ ttlSeconds: 1 });
      await sessions.record(A, [{ name: 'fs.read', hash: 'h1' }]);
      clock.advance(5_000);
      await sessions.record(A, [{ name: 'fs.write', hash: 'h2' }]);
      expect(asObject(await sessions.sent(A))).toEqual({ 'fs.write': 'h2' });
    });

    it('evicts the least recently used session beyond maxSessions', async () => {
      const { sessions } = await store({ maxSessions: 2 });
      const key = (id: string) => ({ caller: 'alice', sessionId: id });
      await sessions.record(key('one'), [{ name: 't', hash: '1' }]);
      await sessions.record(key('two'), [{ name: 't', hash: '2' }]);
      // Touch "one" so "two" is now the least recently used.
      expect((await sessions.sent(key('one'))).get('t')).toBe('1');
      await sessions.record(key('three'), [{ name: 't', hash: '3' }]);
      expect(sessions.size()).toBe(2);
      expect((await sessions.sent(key('two'))).size).toBe(0);
      expect((await sessions.sent(key('one'))).get('t')).toBe('1');
      expect((await sessions.sent(key('three'))).get('t')).toBe('3');
    });
  });
}
