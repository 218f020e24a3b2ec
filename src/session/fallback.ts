/**
 * What the gateway does when its session store fails (Redis down, a timeout): the session counts as
 * empty, so the caller gets full definitions, and what was sent simply is not remembered. A store outage
 * is never a tool error. The log says so once per outage (a warning with the reason) and once when the
 * store answers again (info), not on every call.
 */
import type { Logger } from '../logging/logger.js';
import type { RecordOptions, SessionKey, SessionStore } from './store.js';

/** The session operations of the gateway, each failing soft. */
export class FallbackSessions {
  readonly #store: SessionStore;
  readonly #logger: Logger;
  #down = false;

  constructor(options: { store: SessionStore; logger: Logger }) {
    this.#store = options.store;
    this.#logger = options.logger;
  }

  /** True while the last store operation failed. */
  get degraded(): boolean {
    return this.#down;
  }

  /** What the session holds; empty (everything in full) when the store fails. */
  async sent(key: SessionKey): Promise<ReadonlyMap<string, string>> {
    return this.#guard('sent', () => this.#store.sent(key), new Map<string, string>());
  }

  /** Remembers what was sent; a failure only means the next call sends it again. */
  async record(key: SessionKey, tools: readonly { name: string; hash: string }[], options?: RecordOptions): Promise<void> {
    await this.#guard('record', () => this.#store.record(key, tools, options), undefined);
  }

  /** Forgets the session; a failure is harmless when the store is down (nothing is read from it either). */
  async forget(key: SessionKey): Promise<void> {
    await this.#guard('forget', () => this.#store.forget(key), undefined);
  }

  async #guard<T>(operation: string, run: () => Promise<T>, fallback: T): Promise<T> {
    try {
      const result = await run();
      if (this.#down) {
        this.#down = false;
        this.#logger.info({ sessionStore: 'back' }, 'session store answers again; repeats are names-only again');
      }
      return result;
    } catch (error) {
      if (!this.#down) {
        this.#down = true;
        this.#logger.warn(
          { sessionStore: 'unavailable', operation, reason: (error as Error).message },
          'session store unavailable; sending full definitions until it answers again',
        );
      } else {
        this.#logger.debug({ operation, reason: (error as Error).message }, 'session store still unavailable');
      }
      return fallback;
    }
  }
}
