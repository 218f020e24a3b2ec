/**
 * One connection to Redis for the session store, built to fail fast instead of making tool calls wait:
 *
 * - commands are never queued while disconnected (the offline queue is off): they reject at once;
 * - every command gets an answer within `commandTimeoutMs` or rejects. node-redis's own timeout only
 *   covers a command until it is written, so a Redis that stops answering (paused, or behind a network
 *   that drops packets) would hold calls forever; a timed-out connection is also replaced by a fresh one,
 *   because the old socket may look open for minutes;
 * - lost connections are retried in the background, backing off from 100 ms to 2 s;
 * - the scripts are loaded first thing on every (re)connection. A script Redis has not loaded is
 *   answered NOSCRIPT and sent again, and the resend lands behind commands issued after it: a forget
 *   could then overtake the record that followed it. Loading first keeps commands in the order issued.
 */
import { createClient } from '@redis/client';
import { createHash } from 'node:crypto';
import type { Logger } from '../logging/logger.js';

/** Reconnect delays grow from 100 ms to at most this, so a returning Redis is found quickly. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/** A node-redis client that never queues while disconnected and always reconnects. */
function createFailFastClient(url: string, connectTimeoutMs: number) {
  return createClient({
    url,
    // Queued commands would make every tool call wait for Redis to return; failing fast lets the
    // gateway answer with full definitions instead.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: connectTimeoutMs,
      // Always reconnect (the default gives up after a socket timeout).
      reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, MAX_RECONNECT_DELAY_MS),
    },
  });
}

type Client = ReturnType<typeof createFailFastClient>;

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

/** A self-healing Redis connection that runs Lua scripts and PING with a deadline. */
export class RedisConnection {
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #logger: Logger | undefined;
  readonly #scripts: readonly string[];
  /** The URL with the password redacted. */
  readonly where: string;
  #client: Client;
  #closed = false;
  /** Why the last attempt failed, for status reports. */
  #lastError: string | undefined;

  constructor(options: { url: string; commandTimeoutMs: number; logger?: Logger; scripts?: readonly string[] }) {
    this.#url = options.url;
    this.#timeoutMs = options.commandTimeoutMs;
    this.#logger = options.logger;
    this.#scripts = options.scripts ?? [];
    this.where = redactRedisUrl(options.url);
    this.#client = this.#open();
  }

  /** Resolves true once connected, false when `waitMs` passed first (connecting goes on regardless). */
  whenReady(waitMs: number): Promise<boolean> {
    const client = this.#client;
    if (client.isReady) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ready: boolean) => {
        clearTimeout(timer);
        client.off('ready', onReady);
        resolve(ready);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(client.isReady), waitMs);
      client.on('ready', onReady);
    });
  }

  /** Why the connection last failed, if it did. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Runs a Lua script by its SHA, sending the script itself on NOSCRIPT (after a Redis restart, for one). */
  script(script: string, keys: string[], args: string[]): Promise<unknown> {
    return this.#deadline(async (client) => {
      try {
        return await client.evalSha(sha1(script), { keys, arguments: args });
      } catch (error) {
        if (!(error as Error).message?.startsWith('NOSCRIPT')) throw error;
        return client.eval(script, { keys, arguments: args });
      }
    });
  }

  /** PING, within the command timeout. */
  async ping(): Promise<void> {
    await this.#deadline((client) => client.ping());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.#client;
    if (client.isOpen) await client.close().catch(() => client.destroy());
  }

  #open(): Client {
    const client = createFailFastClient(this.#url, this.#timeoutMs);
    // Without a listener an 'error' event would crash the process. Outages are reported by the gateway
    // when a call degrades, so the connection's own churn is only worth a debug line.
    client.on('error', (error: Error) => {
      this.#lastError = error.message;
      this.#logger?.debug({ redis: this.where, reason: error.message }, 'redis connection error');
    });
    client.on('ready', () => {
      this.#logger?.debug({ redis: this.where }, 'redis connected');
      // Issued before anything else can be (this runs as the connection turns ready): see the header.
      for (const script of this.#scripts) {
        client.scriptLoad(script).catch((error: Error) => {
          this.#logger?.debug({ redis: this.where, reason: error.message }, 'redis script load failed');
        });
      }
    });
    // Settles once connected (retrying meanwhile), or rejects when closed first.
    client.connect().catch(() => undefined);
    return client;
  }

  async #deadline<T>(command: (client: Client) => Promise<T>): Promise<T> {
    const client = this.#client;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const message = `no answer from Redis within ${this.#timeoutMs} ms`;
        this.#lastError = message;
        this.#replace(client, message);
        reject(new Error(message));
      }, this.#timeoutMs);
    });
    try {
      return await Promise.race([command(client), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Swaps a connection that stopped answering for a fresh one (once, however many calls timed out). */
  #replace(stalled: Client, reason: string): void {
    if (this.#closed || this.#client !== stalled) return;
    this.#logger?.debug({ redis: this.where, reason }, 'redis connection replaced');
    this.#client = this.#open();
    // Rejects whatever still waits on the old socket; those calls have already given up.
    try {
      stalled.destroy();
    } catch {
      // already closed
    }
  }
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
