/**
 * The conformance suite every SessionStore implementation runs. A store must keep callers apart, merge
 * what it records, forget on demand, expire idle sessions and stay within maxSessions.
 *
 * Expiry is tested with whatever time the store lives in: an in-process store gets a clock the test
 * moves by hand (exact to the millisecond, no sleeping); a networked store whose TTL runs on the server's
 * clock gets a short TTL and real waiting, with a margin around the TTL that absorbs scheduling delays.
 */
import { afterEach, describe, expect, it } from 'vitest';
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

/**
 * How expiry tests let time pass. Default: `clock`, the injected FakeClock with the TTL of 60 s and a
 * margin of 1 ms — a session must be alive 1 ms before its TTL and gone 1 ms after it.
 */
export type ExpiryTime =
  | { kind: 'clock' }
  | {
      kind: 'real';
      /** The TTL the expiry tests configure. */
      ttlSeconds: number;
      /** Alive at `ttl - marginMs` after the last use, gone at `ttl + marginMs`. */
      marginMs: number;
    };

const A = { caller: 'alice', sessionId: 's1' };
const B = { caller: 'bob', sessionId: 's1' };
const asObject = (map: ReadonlyMap<string, string>) => Object.fromEntries(map);

/** Registers the suite for one implementation. */
export function sessionStoreConformance(name: string, createStore: StoreFactory, time: ExpiryTime = { kind: 'clock' }): void {
  const open: SessionStore[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((sessions) => sessions.close?.()));
  });

  async function store(options: { ttlSeconds?: number; maxSessions?: number } = {}) {
    const clock = new FakeClock();
    const sessions = await createStore({ ttlSeconds: options.ttlSeconds ?? 60, maxSessions: options.maxSessions ?? 100, clock });
    open.push(sessions);
    return { clock, sessions };
  }

  /** A store for the expiry tests, and the time around its TTL. */
  async function expiring() {
    const ttlSeconds = time.kind === 'clock' ? 60 : time.ttlSeconds;
    const marginMs = time.kind === 'clock' ? 1 : time.marginMs;
    const { clock, sessions } = await store({ ttlSeconds });
    const advance = async (ms: number) => {
      if (time.kind === 'clock') clock.advance(ms);
      else await new Promise((resolve) => setTimeout(resolve, ms));
    };
    return { sessions, advance, justUnder: ttlSeconds * 1000 - marginMs, justOver: ttlSeconds * 1000 + marginMs };
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

    it('a replacing record drops what the session held and keeps only what it names', async () => {
      const { sessions } = await store();
      await sessions.record(A, [
        { name: 'fs.read', hash: 'h1' },
        { name: 'fs.write', hash: 'h2' },
      ]);
      await sessions.record(B, [{ name: 'fs.read', hash: 'h1' }]);
      await sessions.record(A, [{ name: 'mem.search', hash: 'h3' }], { replace: true });
      expect(asObject(await sessions.sent(A))).toEqual({ 'mem.search': 'h3' });
      // Only that session starts over.
      expect(asObject(await sessions.sent(B))).toEqual({ 'fs.read': 'h1' });
      expect(sessions.size()).toBe(2);
    });

    it('a replacing record of nothing leaves the session empty', async () => {
      const { sessions } = await store();
      await sessions.record(A, [{ name: 'fs.read', hash: 'h1' }]);
      await sessions.record(A, [], { replace: true });
      expect((await sessions.sent(A)).size).toBe(0);
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
      const { sessions, advance, justOver } = await expiring();
      await sessions.record(A, [{ name: 'fs.read', hash: 'h1' }]);
      await advance(justOver);
      expect((await sessions.sent(A)).size).toBe(0);
      expect(sessions.size()).toBe(0);
    });

    it('keeps a session alive while it is used (updateAgeOnGet)', async () => {
      const { sessions, advance, justUnder, justOver } = await expiring();
      await sessions.record(A, [{ name: 'fs.read', hash: 'h1' }]);
      for (let i = 0; i < 5; i++) {
        await advance(justUnder);
        expect((await sessions.sent(A)).get('fs.read'), `read ${i}`).toBe('h1');
      }
      // Five times nearly the TTL after it was recorded, but only just over one TTL after its last use.
      await advance(justOver);
      expect((await sessions.sent(A)).size).toBe(0);
    });

    it('a session just under the TTL survives', async () => {
      const { sessions, advance, justUnder } = await expiring();
      await sessions.record(A, [{ name: 'fs.read', hash: 'h1' }]);
      await advance(justUnder);
      expect((await sessions.sent(A)).get('fs.read')).toBe('h1');
      expect(sessions.size()).toBe(1);
    });

    it('an expired session starts over when recorded again', async () => {
      const { sessions, advance, justOver } = await expiring();
      await sessions.record(A, [{ name: 'fs.read', hash: 'h1' }]);
      await advance(justOver);
      await sessions.record(A, [{ name: 'fs.write', hash: 'h2' }]);
      expect(asObject(await sessions.sent(A))).toEqual({ 'fs.write': 'h2' });
      expect(sessions.size()).toBe(1);
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
