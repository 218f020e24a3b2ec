/**
 * The catalog cache: each server's last live tool list, kept in `<stateDir>/catalog/` so a gateway can
 * answer selections from it without spawning the server. An entry is tied to how the server is run
 * (command, args, cwd, env, url, headers): change any of them and the old entry no longer applies.
 * Only a hash of those settings is stored, never the values, so secrets in `env` or `headers` stay out.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { canonicalJson } from '../catalog/hash.js';
import type { ServerSpec } from '../config/load.js';
import { readJsonFile, writeJsonFile } from './jsonFile.js';

/** One cached tool list. */
export interface CachedToolList {
  server: string;
  /** Hash of the settings that run the server; a mismatch makes the entry stale. */
  spec: string;
  /** When the list was read from the live server (ISO 8601). */
  readAt: string;
  tools: Tool[];
}

/** Hash of the settings that decide which process or endpoint a server entry reaches. */
export function specHash(spec: ServerSpec): string {
  const identity = {
    command: spec.command ?? null,
    args: spec.args ?? [],
    cwd: spec.cwd ?? null,
    env: spec.env ?? {},
    url: spec.url ?? null,
    headers: spec.headers ?? {},
  };
  return createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 16);
}

/** Reads and writes cached tool lists in one state directory. */
export class CatalogCache {
  readonly #dir: string;
  readonly #now: () => number;

  constructor({ stateDir, now = Date.now }: { stateDir: string; now?: () => number }) {
    this.#dir = join(stateDir, 'catalog');
    this.#now = now;
  }

  /** The cached list of `spec`, or undefined when there is none or it belongs to other settings. */
  async read(spec: ServerSpec): Promise<CachedToolList | undefined> {
    const entry = (await readJsonFile(this.#file(spec))) as Partial<CachedToolList> | undefined;
    if (!entry || entry.spec !== specHash(spec) || !Array.isArray(entry.tools)) return undefined;
    return entry as CachedToolList;
  }

  /** Stores the live list of `spec`. */
  async write(spec: ServerSpec, tools: readonly Tool[]): Promise<void> {
    const entry: CachedToolList = {
      server: spec.name,
      spec: specHash(spec),
      readAt: new Date(this.#now()).toISOString(),
      tools: [...tools],
    };
    await writeJsonFile(this.#file(spec), entry);
  }

  #file(spec: ServerSpec): string {
    return join(this.#dir, `${spec.name}.json`);
  }
}
