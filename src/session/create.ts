/**
 * Builds the session store `session.store` names: the in-process lru-cache store, or Redis when several
 * gateway processes must share what each conversation was sent.
 */
import type { SessionConfig } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { MemorySessionStore, type Clock } from './memory.js';
import type { SessionStore } from './store.js';

/** The configured store. With Redis it waits briefly for a first connection, never for longer. */
export async function createSessionStore({
  session,
  logger,
  clock,
}: {
  session: SessionConfig;
  logger: Logger;
  /** The memory store's clock (Redis expires keys on its own clock). */
  clock?: Clock;
}): Promise<SessionStore> {
  const { ttlSeconds, maxSessions } = session;
  if (session.store === 'redis') {
    // The config schema already insists on it; this guards configurations built in code.
    if (session.redisUrl === undefined) throw new Error('session.store is redis, but session.redisUrl is not set');
    // Loaded only when configured: the Redis client costs every other gateway ~100 ms and ~17 MB at start.
    const { createRedisSessionStore } = await import('./redis.js');
    return createRedisSessionStore({ url: session.redisUrl, ttlSeconds, maxSessions, keyPrefix: session.redisKeyPrefix, logger });
  }
  return new MemorySessionStore({ ttlSeconds, maxSessions, ...(clock ? { clock } : {}) });
}
