/**
 * The selection cache: the model's choice for a (profile, task, caller view, limit), so the same task
 * does not pay the model twice. Only successful choices go in — a fallback is retried next time. The
 * view's etag is part of the key, so any change to the tools the caller sees retires old entries.
 * This cache only saves model calls; whether a session gets full definitions or names is still the
 * session store's decision.
 */
import { LRUCache } from 'lru-cache';
import type { Profile } from '../config/load.js';

/** A cached choice: names in the model's order, and its reasons by name. */
export interface CachedChoice {
  chosen: readonly string[];
  reasons: Readonly<Record<string, string>>;
  /** The needs the choice was made over: a hit replays them, so retrieval finds the same candidates. */
  needs?: readonly string[];
  /** The servers the server-first stage picked for it: replayed the same way. */
  servers?: readonly string[];
}

/** What identifies one selection for the cache. */
export interface SelectionCacheKey {
  profile: Pick<Profile, 'name' | 'description' | 'instructions'>;
  query: string;
  etag: string;
  limit: number;
}

/** Default number of cached choices. */
export const SELECTION_CACHE_SIZE = 1_000;

/** An LRU of model choices. */
export class SelectionCache {
  readonly #entries: LRUCache<string, CachedChoice>;

  constructor({ max = SELECTION_CACHE_SIZE }: { max?: number } = {}) {
    this.#entries = new LRUCache({ max });
  }

  /** The cached choice for `key`, if any. */
  get(key: SelectionCacheKey): CachedChoice | undefined {
    return this.#entries.get(keyOf(key));
  }

  /** Remembers a successful choice. */
  set(key: SelectionCacheKey, choice: CachedChoice): void {
    this.#entries.set(keyOf(key), choice);
  }

  /** Number of cached choices. */
  get size(): number {
    return this.#entries.size;
  }
}

/**
 * Case and spacing do not change a task; anything else might. The profile's words are part of the key
 * because they are part of the prompt (two profiles may share a name across configurations).
 */
export function normalizeQuery(query: string): string {
  return query.replace(/\s+/g, ' ').trim().toLowerCase();
}

function keyOf(key: SelectionCacheKey): string {
  return JSON.stringify([
    key.profile.name,
    key.profile.description,
    key.profile.instructions ?? '',
    normalizeQuery(key.query),
    key.etag,
    key.limit,
  ]);
}
