/**
 * Definition hashes: 16 hex chars of xxHash64 over the canonical JSON (keys sorted, recursively) of a
 * tool as the gateway exposes it. Equal definitions hash equally whatever the key order downstream,
 * which is what lets a session be told "unchanged" safely.
 */
import xxhash from 'xxhash-wasm';

/** The hash functions, available once the wasm module is instantiated. */
export interface Hasher {
  /** 16 hex chars of xxHash64. */
  h64(text: string): string;
  /** 8 hex chars of xxHash32, for short etags. */
  h32(text: string): string;
}

let loading: Promise<Hasher> | undefined;

/** Instantiates xxhash-wasm once per process. */
export function loadHasher(): Promise<Hasher> {
  loading ??= xxhash().then((api) => ({
    h64: (text: string) => api.h64ToString(text).padStart(16, '0'),
    h32: (text: string) => api.h32ToString(text).padStart(8, '0'),
  }));
  return loading;
}

/** JSON with object keys sorted at every depth; `undefined` members are dropped as JSON does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = sortKeys(item);
    }
    return out;
  }
  return value;
}
