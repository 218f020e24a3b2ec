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
 * atomic across processes. The client never queues while Redis is away (offline queue off, short command
 * timeout): calls fail fast, the gateway degrades to full definitions, and the client reconnects by itself.
 */
import { createClient } from '@redis/client';
import { createHash } from 'node:crypto';
import type { Logger } from '../logging/logger.js';
import { SCRIPTS, type ScriptName } from './redisScripts.js';
import type { SessionKey, SessionStore, SessionStoreStatus } from './store.js';

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
/** Reconnect delays grow from 100 ms to at most this, so a returning Redis is found quickly. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/** The URL with its password replaced, safe to log and print. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // Never echo text that failed to parse: it may be a password pasted in the wrong place.
    return '(invalid URL)';
  }
}

/** The Redis-backed store. Build it with {@link createRedisSessionStore} to wait for the first connection. */
export class RedisSessionStore implements SessionStore {
  readonly #client: ReturnType<typeof createClient>;
  readonly #ttlMs: string;
  readonly #maxSessions: string;
  readonly #prefix: string;
  readonly #index: string;
  readonly #where: string;
  readonly #logger: Logger | undefined;
  readonly #refresh: NodeJS.Timeout | undefined;
  #size = 0;
  #closed = false;
  /** Why the last connection attempt failed, for `status()`. */
  #lastError: string | undefined;

  constructor(options: RedisSessionStoreOptions) {
    this.#prefix = options.keyPrefix ?? 'automcp:';
    this.#index = `${this.#prefix}sessions`;
    this.#ttlMs = String(options.ttlSeconds * 1000);
    this.#maxSessions = String(options.maxSessions);
    this.#where = redactRedisUrl(options.url);
    this.#logger = options.logger;
    this.#client = createClient({
      url: options.url,
      // Queued commands would make every tool call wait for Redis to return; failing fast lets the
      // gateway answer with full definitions instead.
      disableOfflineQueue: true,
      commandOptions: { timeout: options.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS },
      socket: {
        connectTimeout: options.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS,
        // Always reconnect (the default gives up after a socket timeout), backing off to 2 s.
        reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, MAX_RECONNECT_DELAY_MS),
      },
    });
    // Without a listener an 'error' event would crash the process; outages are reported by the
    // gateway when a call degrades, so the connection's own churn is only worth a debug line.
    this.#client.on('error', (error: Error) => {
      this.#lastError = error.message;
      this.#logger?.debug({ redis: this.#where, reason: error.message }, 'redis error');
    });
    this.#client.on('ready', () => this.#logger?.debug({ redis: this.#where }, 'redis connected'));
    const refreshMs = options.sizeRefreshMs ?? REDIS_SIZE_REFRESH_MS;
    if (refreshMs > 0) {
      this.#refresh = setInterval(() => void this.refreshSize().catch(() => undefined), refreshMs);
      this.#refresh.unref();
    }
  }

  /** Starts connecting; resolves when Redis answered or `waitMs` passed. Reconnects on its own afterwards. */
  async connect(waitMs: number): Promise<boolean> {
    if (!this.#client.isOpen) {
      // The promise settles only once connected (it retries meanwhile), or rejects when closed first.
      this.#client.connect().catch(() => undefined);
    }
    return this.#whenReady(waitMs);
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

  async record(key: SessionKey, tools: readonly { name: string; hash: string }[]): Promise<void> {
    if (tools.length === 0) return;
    const pairs = tools.flatMap((tool) => [tool.name, tool.hash]);
    const args = [this.#ttlMs, this.#member(key), this.#maxSessions, `${this.#prefix}s:`, ...pairs];
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
    const started = performance.now();
    try {
      if (!(await this.#whenReady(2_000))) throw new Error(this.#lastError ?? 'no connection within 2 s');
      await this.#client.ping();
      const ms = Math.round(performance.now() - started);
      await this.refreshSize();
      return { store: 'redis', ok: true, detail: `${this.#where} answers PING (${ms} ms); ${this.#size} live sessions` };
    } catch (error) {
      return { store: 'redis', ok: false, detail: `${this.#where} does not answer: ${(error as Error).message}` };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#refresh);
    if (this.#client.isOpen) await this.#client.close().catch(() => this.#client.destroy());
  }

  #sessionKey(key: SessionKey): string {
    return `${this.#prefix}s:${this.#member(key)}`;
  }

  /** The session's name in the index; with the prefix and `s:` in front, its hash's key. */
  #member(key: SessionKey): string {
    return `${encodeURIComponent(key.caller)}:${encodeURIComponent(key.sessionId)}`;
  }

  /** Runs a script by its SHA, loading it on the first NOSCRIPT (after a Redis restart, for one). */
  async #run(name: ScriptName, sessionKey: string | undefined, args: string[]): Promise<unknown> {
    const keys = sessionKey === undefined ? [this.#index] : [this.#index, sessionKey];
    const script = SCRIPTS[name];
    try {
      return await this.#client.evalSha(sha1(script), { keys, arguments: args });
    } catch (error) {
      if (!(error as Error).message?.startsWith('NOSCRIPT')) throw error;
      return this.#client.eval(script, { keys, arguments: args });
    }
  }

  #whenReady(waitMs: number): Promise<boolean> {
    if (this.#client.isReady) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ready: boolean) => {
        clearTimeout(timer);
        this.#client.off('ready', onReady);
        resolve(ready);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(this.#client.isReady), waitMs);
      this.#client.on('ready', onReady);
    });
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
  const connected = await store.connect(connectWaitMs);
  options.logger?.info({ redis: redactRedisUrl(options.url), connected }, 'session store: redis');
  return store;
}

const shas = new Map<string, string>();
function sha1(script: string): string {
  let sha = shas.get(script);
  if (sha === undefined) {
    sha = createHash('sha1').update(script).digest('hex');
    shas.set(script, sha);
  }
  return sha;
}
