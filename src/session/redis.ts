/**
 * Session store on Redis, so several gateway processes share what each conversation was sent: a session
 * started on one process gets names-only answers on another.
 *
 * Layout (with the default prefix `automcp:`):
 * - `automcp:s:<caller>:<sessionId>` — a hash of qualified tool name → definition hash, with a Redis TTL
 *   of `ttlSeconds` that every use renews. Caller and sessionId are URI-encoded, so `:` cannot shift
 *   between them and no key can be forged from either.
 * - `automcp:sessions` — a sorted set of live sessions by last use, which gives `maxSessions` its
 *   least-recently-used eviction and `size()` its count. Each operation first drops members idle longer
 *   than the TTL (their hashes have expired in Redis by then).
 *
 * Every operation is one Lua script, so a read that renews, a merge that evicts and the count stay
 * atomic across processes. The connection (redisConnection.ts) never queues while Redis is away and gives
 * every command a deadline: calls fail fast, the gateway degrades to full definitions, and the connection
 * heals by itself.
 */
import type { Logger } from '../logging/logger.js';
import { redactRedisUrl, RedisConnection } from './redisConnection.js';
import { SCRIPTS, type ScriptName } from './redisScripts.js';
import type { RecordOptions, SessionKey, SessionStore, SessionStoreStatus } from './store.js';

export { redactRedisUrl } from './redisConnection.js';

/** Options of {@link RedisSessionStore}. */
export interface RedisSessionStoreOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://…`. */
  url: string;
  ttlSeconds: number;
  maxSessions: number;
  /** Prepended to every key, so several deployments can share one Redis (default `automcp:`). */
  keyPrefix?: string;
  /** Longest a single command may take before it fails (default {@link REDIS_COMMAND_TIMEOUT_MS}). */
  commandTimeoutMs?: number;
  /** How often the cached `size()` is refreshed while idle (default {@link REDIS_SIZE_REFRESH_MS}; 0: never). */
  sizeRefreshMs?: number;
  logger?: Logger;
}

/** A command that takes longer than this fails, so a stalled Redis cannot stall a tool call. */
export const REDIS_COMMAND_TIMEOUT_MS = 1_000;
/** How often `size()` is refreshed when this process makes no calls (other processes may). */
export const REDIS_SIZE_REFRESH_MS = 15_000;

/** The Redis-backed store. Build it with {@link createRedisSessionStore} to wait for the first connection. */
export class RedisSessionStore implements SessionStore {
  readonly #redis: RedisConnection;
  readonly #ttlMs: string;
  readonly #maxSessions: string;
  readonly #prefix: string;
  readonly #index: string;
  readonly #refresh: NodeJS.Timeout | undefined;
  #size = 0;

  constructor(options: RedisSessionStoreOptions) {
    this.#prefix = options.keyPrefix ?? 'automcp:';
    this.#index = `${this.#prefix}sessions`;
    this.#ttlMs = String(options.ttlSeconds * 1000);
    this.#maxSessions = String(options.maxSessions);
    this.#redis = new RedisConnection({
      url: options.url,
      commandTimeoutMs: options.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS,
      scripts: Object.values(SCRIPTS),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    const refreshMs = options.sizeRefreshMs ?? REDIS_SIZE_REFRESH_MS;
    if (refreshMs > 0) {
      this.#refresh = setInterval(() => void this.refreshSize().catch(() => undefined), refreshMs);
      this.#refresh.unref();
    }
  }

  /** Resolves true once Redis is connected, false when `waitMs` passed first; connecting goes on regardless. */
  waitUntilConnected(waitMs: number): Promise<boolean> {
    return this.#redis.whenReady(waitMs);
  }

  async sent(key: SessionKey): Promise<ReadonlyMap<string, string>> {
    const [count, fields] = (await this.#run('sent', this.#sessionKey(key), [this.#ttlMs, this.#member(key)])) as [
      number,
      string[],
    ];
    this.#size = count;
    const sent = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) sent.set(fields[i]!, fields[i + 1]!);
    return sent;
  }

  async record(key: SessionKey, tools: readonly { name: string; hash: string }[], options: RecordOptions = {}): Promise<void> {
    if (tools.length === 0) {
      if (options.replace) await this.forget(key);
      return;
    }
    const pairs = tools.flatMap((tool) => [tool.name, tool.hash]);
    const replace = options.replace ? '1' : '0';
    const args = [this.#ttlMs, this.#member(key), this.#maxSessions, `${this.#prefix}s:`, replace, ...pairs];
    this.#size = (await this.#run('record', this.#sessionKey(key), args)) as number;
  }

  async forget(key: SessionKey): Promise<void> {
    this.#size = (await this.#run('forget', this.#sessionKey(key), [this.#ttlMs, this.#member(key)])) as number;
  }

  /** Live sessions as of this process's last Redis call (or the periodic refresh). */
  size(): number {
    return this.#size;
  }

  /** Asks Redis for the current count of live sessions (all processes sharing the prefix). */
  async refreshSize(): Promise<number> {
    this.#size = (await this.#run('count', undefined, [this.#ttlMs])) as number;
    return this.#size;
  }

  async status(): Promise<SessionStoreStatus> {
    const where = this.#redis.where;
    const started = performance.now();
    try {
      if (!(await this.#redis.whenReady(2_000))) throw new Error(this.#redis.lastError ?? 'no connection within 2 s');
      await this.#redis.ping();
      const ms = Math.round(performance.now() - started);
      await this.refreshSize();
      return { store: 'redis', ok: true, detail: `${where} answers PING (${ms} ms); ${this.#size} live sessions` };
    } catch (error) {
      return { store: 'redis', ok: false, detail: `${where} does not answer: ${(error as Error).message}` };
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#refresh);
    await this.#redis.close();
  }

  #sessionKey(key: SessionKey): string {
    return `${this.#prefix}s:${this.#member(key)}`;
  }

  /** The session's name in the index; with the prefix and `s:` in front, its hash's key. */
  #member(key: SessionKey): string {
    return `${encodeURIComponent(key.caller)}:${encodeURIComponent(key.sessionId)}`;
  }

  #run(name: ScriptName, sessionKey: string | undefined, args: string[]): Promise<unknown> {
    const keys = sessionKey === undefined ? [this.#index] : [this.#index, sessionKey];
    return this.#redis.script(SCRIPTS[name], keys, args);
  }
}

/**
 * Builds a {@link RedisSessionStore} and waits up to `connectWaitMs` (default 2 s) for Redis to answer,
 * so the first calls after start-up find it. A Redis that is down does not stop the gateway: sessions
 * degrade to full definitions until it answers.
 */
export async function createRedisSessionStore(
  options: RedisSessionStoreOptions & { connectWaitMs?: number },
): Promise<RedisSessionStore> {
  const { connectWaitMs = 2_000, ...storeOptions } = options;
  const store = new RedisSessionStore(storeOptions);
  const connected = await store.waitUntilConnected(connectWaitMs);
  options.logger?.info({ redis: redactRedisUrl(options.url), connected }, 'session store: redis');
  return store;
}
