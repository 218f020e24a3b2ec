/**
 * In-process session store on lru-cache: bounded by `maxSessions`, entries expire `ttlSeconds` after
 * their last use. The clock is injected so expiry is testable without sleeping.
 */
import { LRUCache } from 'lru-cache';
import { sessionKeyString, type RecordOptions, type SessionKey, type SessionStore, type SessionStoreStatus } from './store.js';

/** Milliseconds now; `performance.now()` shaped, as lru-cache expects. */
export interface Clock {
  now(): number;
}

/** The lru-cache-backed store. */
export class MemorySessionStore implements SessionStore {
  readonly #cache: LRUCache<string, Map<string, string>>;

  constructor(options: { ttlSeconds: number; maxSessions: number; clock?: Clock }) {
    this.#cache = new LRUCache<string, Map<string, string>>({
      max: options.maxSessions,
      ttl: options.ttlSeconds * 1000,
      // A session in use stays alive; an abandoned one ages out.
      updateAgeOnGet: true,
      // Exact expiry checks instead of a cached clock: cheap at these sizes and deterministic in tests.
      ttlResolution: 0,
      ...(options.clock ? { perf: options.clock } : {}),
    });
  }

  async sent(key: SessionKey): Promise<ReadonlyMap<string, string>> {
    return this.#cache.get(sessionKeyString(key)) ?? new Map();
  }

  async record(key: SessionKey, tools: readonly { name: string; hash: string }[], options: RecordOptions = {}): Promise<void> {
    const id = sessionKeyString(key);
    const entry = (options.replace ? undefined : this.#cache.get(id)) ?? new Map<string, string>();
    for (const tool of tools) entry.set(tool.name, tool.hash);
    this.#cache.set(id, entry);
  }

  async forget(key: SessionKey): Promise<void> {
    this.#cache.delete(sessionKeyString(key));
  }

  size(): number {
    return this.#cache.size;
  }

  async status(): Promise<SessionStoreStatus> {
    const { max, ttl } = this.#cache;
    return { store: 'memory', ok: true, detail: `in process, up to ${max} sessions, ${ttl / 1000} s after last use` };
  }
}
