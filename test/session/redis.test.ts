/**
 * The Redis session store against a real redis-server: the shared conformance suite (expiry on Redis's
 * own clock), the key layout other tools see, sharing between stores, and an outage and recovery.
 */
import { createClient } from '@redis/client';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisSessionStore, redactRedisUrl, RedisSessionStore } from '../../src/session/redis.js';
import { waitFor } from '../helpers/gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis.js';
import { sessionStoreConformance } from './conformance.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.close();
});

/** A key prefix no other test uses, so every store starts empty on the shared server. */
const freshPrefix = () => `t${randomBytes(4).toString('hex')}:`;

sessionStoreConformance(
  'redis',
  ({ ttlSeconds, maxSessions }) =>
    createRedisSessionStore({ url: redis.url, ttlSeconds, maxSessions, keyPrefix: freshPrefix(), connectWaitMs: 10_000 }),
  // Redis expires keys on its own clock: a 2 s TTL, checked 1 s before and 1 s after it.
  { kind: 'real', ttlSeconds: 2, marginMs: 1_000 },
);

describe('RedisSessionStore', () => {
  const stores: RedisSessionStore[] = [];
  const raw = () => createClient({ url: redis.url });
  const open = async (options: { keyPrefix?: string; ttlSeconds?: number; maxSessions?: number } = {}) => {
    const store = await createRedisSessionStore({
      url: redis.url,
      ttlSeconds: options.ttlSeconds ?? 60,
      maxSessions: options.maxSessions ?? 100,
      keyPrefix: options.keyPrefix ?? freshPrefix(),
      connectWaitMs: 10_000,
    });
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  it('keeps one hash per caller and session under the prefix, with the TTL in Redis', async () => {
    const prefix = freshPrefix();
    const store = await open({ keyPrefix: prefix, ttlSeconds: 90 });
    await store.record({ caller: 'alice', sessionId: 'conv-1' }, [
      { name: 'fs.read', hash: 'h1' },
      { name: 'mem.search', hash: 'h2' },
    ]);
    const client = await raw().connect();
    try {
      expect((await client.keys(`${prefix}*`)).sort()).toEqual([`${prefix}s:alice:conv-1`, `${prefix}sessions`]);
      expect(await client.hGetAll(`${prefix}s:alice:conv-1`)).toEqual({ 'fs.read': 'h1', 'mem.search': 'h2' });
      const ttl = await client.pTTL(`${prefix}s:alice:conv-1`);
      expect(ttl).toBeGreaterThan(80_000);
      expect(ttl).toBeLessThanOrEqual(90_000);
      expect(await client.zRange(`${prefix}sessions`, 0, -1)).toEqual(['alice:conv-1']);
    } finally {
      client.destroy();
    }
  });

  it('encodes caller and sessionId so neither can reach into the other', async () => {
    const prefix = freshPrefix();
    const store = await open({ keyPrefix: prefix });
    // The default session of a connection starts with '#'; explicit ids may hold ':' and '.'.
    await store.record({ caller: 'a', sessionId: 'b:c' }, [{ name: 't.one', hash: '1' }]);
    await store.record({ caller: 'a:b', sessionId: 'c' }, [{ name: 't.two', hash: '2' }]);
    await store.record({ caller: 'cli', sessionId: '#c_0001' }, [{ name: 't.three', hash: '3' }]);
    expect(Object.fromEntries(await store.sent({ caller: 'a', sessionId: 'b:c' }))).toEqual({ 't.one': '1' });
    expect(Object.fromEntries(await store.sent({ caller: 'a:b', sessionId: 'c' }))).toEqual({ 't.two': '2' });
    const client = await raw().connect();
    try {
      expect((await client.keys(`${prefix}s:*`)).sort()).toEqual([
        `${prefix}s:a%3Ab:c`,
        `${prefix}s:a:b%3Ac`,
        `${prefix}s:cli:%23c_0001`,
      ]);
    } finally {
      client.destroy();
    }
  });

  it('stores with the same prefix share sessions; another prefix is another deployment', async () => {
    const prefix = freshPrefix();
    const first = await open({ keyPrefix: prefix });
    const second = await open({ keyPrefix: prefix });
    const elsewhere = await open();
    const key = { caller: 'alice', sessionId: 's1' };
    await first.record(key, [{ name: 'fs.read', hash: 'h1' }]);
    expect(Object.fromEntries(await second.sent(key))).toEqual({ 'fs.read': 'h1' });
    expect((await elsewhere.sent(key)).size).toBe(0);
    expect(second.size()).toBe(1);
    expect(elsewhere.size()).toBe(0);
    // A count changed by another process shows up after a refresh, without a call of our own.
    await second.record({ caller: 'bob', sessionId: 's1' }, [{ name: 'fs.read', hash: 'h1' }]);
    expect(first.size()).toBe(1);
    expect(await first.refreshSize()).toBe(2);
    expect(first.size()).toBe(2);
    await second.forget(key);
    expect((await first.sent(key)).size).toBe(0);
    expect(first.size()).toBe(1);
  });

  it('reports its status with the password redacted', async () => {
    const store = await open();
    const status = await store.status();
    expect(status).toMatchObject({ store: 'redis', ok: true });
    expect(status.detail).toContain(`127.0.0.1:${redis.port}`);
    expect(status.detail).toMatch(/answers PING/);
    expect(redactRedisUrl('redis://user:s3cret@db.example:6380/2')).toBe('redis://user:***@db.example:6380/2');
    expect(redactRedisUrl('rediss://:s3cret@db.example')).not.toContain('s3cret');
    expect(redactRedisUrl('not a url s3cret')).not.toContain('s3cret');
  });

  it('fails fast while Redis is down, and works again on its own once it is back', async () => {
    const store = await open();
    const key = { caller: 'alice', sessionId: 'outage' };
    await store.record(key, [{ name: 'fs.read', hash: 'h1' }]);
    await redis.stop();
    try {
      // Commands are not queued for later: each call rejects instead of waiting for Redis to return.
      await expect(store.sent(key)).rejects.toThrow();
      await expect(store.record(key, [{ name: 'fs.write', hash: 'h2' }])).rejects.toThrow();
      await expect(store.forget(key)).rejects.toThrow();
      const down = await store.status();
      expect(down.ok).toBe(false);
      expect(down.detail).toMatch(/does not answer/);
    } finally {
      await redis.start();
    }
    // The client reconnects by itself; the restarted server has no data and no loaded scripts.
    const sent = await waitFor(() => store.sent(key).catch(() => undefined), 20_000, 'the store to reconnect');
    expect(sent.size).toBe(0);
    await store.record(key, [{ name: 'fs.write', hash: 'h2' }]);
    expect(Object.fromEntries(await store.sent(key))).toEqual({ 'fs.write': 'h2' });
  });

  it('a Redis that stops answering fails calls at the command timeout, and serves again once it answers', async () => {
    const store = await createRedisSessionStore({
      url: redis.url,
      ttlSeconds: 60,
      maxSessions: 10,
      keyPrefix: freshPrefix(),
      commandTimeoutMs: 300,
      connectWaitMs: 10_000,
    });
    stores.push(store);
    const key = { caller: 'alice', sessionId: 'paused' };
    await store.record(key, [{ name: 'fs.read', hash: 'h1' }]);
    redis.pause();
    try {
      // The connection stays open but nothing answers: without a deadline these would wait forever.
      await expect(store.sent(key)).rejects.toThrow(/no answer from Redis within 300 ms/);
      await expect(store.record(key, [{ name: 'fs.write', hash: 'h2' }])).rejects.toThrow();
    } finally {
      redis.resume();
    }
    const sent = await waitFor(() => store.sent(key).catch(() => undefined), 20_000, 'the store to answer again');
    expect(sent.get('fs.read')).toBe('h1');
  });

  it('a store created while Redis is down starts without it and connects when it comes up', async () => {
    await redis.stop();
    let store: RedisSessionStore;
    try {
      store = await createRedisSessionStore({
        url: redis.url,
        ttlSeconds: 60,
        maxSessions: 10,
        keyPrefix: freshPrefix(),
        connectWaitMs: 200,
      });
      stores.push(store);
      await expect(store.sent({ caller: 'a', sessionId: 'b' })).rejects.toThrow();
    } finally {
      await redis.start();
    }
    await waitFor(() => store.sent({ caller: 'a', sessionId: 'b' }).catch(() => undefined), 20_000, 'the store to connect');
    await store.record({ caller: 'a', sessionId: 'b' }, [{ name: 't.x', hash: '1' }]);
    expect(store.size()).toBe(1);
  });
});
