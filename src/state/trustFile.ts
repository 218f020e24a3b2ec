/**
 * Trusted definition hashes for servers with `pinDefinitions: true`: the hash of each tool as it was
 * first seen (or last accepted with `automcp trust <server>`), kept in `<stateDir>/trusted/<server>.json`.
 * A running gateway re-reads a file when its modification time moves, so `automcp trust` in another
 * terminal releases held-back tools without a restart. Without a state directory the store lives in
 * memory and trust lasts as long as the process.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A tool name (qualified) and the hash of its definition. */
export interface TrustedHash {
  name: string;
  hash: string;
}

interface TrustFile {
  server: string;
  updatedAt: string;
  tools: Record<string, string>;
}

/** Per-server trusted hashes, file-backed when a state directory is given. */
export class TrustStore {
  readonly #dir: string | undefined;
  readonly #now: () => number;
  readonly #servers = new Map<string, { mtimeMs: number; tools: Map<string, string> }>();

  constructor({ stateDir, now = Date.now }: { stateDir?: string; now?: () => number } = {}) {
    this.#dir = stateDir === undefined ? undefined : join(stateDir, 'trusted');
    this.#now = now;
  }

  /** The trusted hashes of `server`'s tools, re-read when the file changed since the last look. */
  trusted(server: string): ReadonlyMap<string, string> {
    return this.#load(server).tools;
  }

  /**
   * True when the file of `server` changed on disk since it was last read (another process trusted
   * something); reading it again is left to {@link trusted}.
   */
  changedOnDisk(server: string): boolean {
    const known = this.#servers.get(server);
    return known !== undefined && known.mtimeMs !== this.#mtime(server);
  }

  /** Adds hashes for tools that have none yet (trust on first sight); known tools keep theirs. */
  remember(server: string, tools: readonly TrustedHash[]): void {
    const current = this.#load(server).tools;
    const fresh = tools.filter((tool) => !current.has(tool.name));
    if (fresh.length === 0) return;
    const next = new Map(current);
    for (const tool of fresh) next.set(tool.name, tool.hash);
    this.#save(server, next);
  }

  /** Trusts exactly `tools` for `server` (what `automcp trust` does), dropping tools no longer listed. */
  replace(server: string, tools: readonly TrustedHash[]): void {
    this.#save(server, new Map(tools.map((tool) => [tool.name, tool.hash])));
  }

  #load(server: string): { mtimeMs: number; tools: Map<string, string> } {
    const known = this.#servers.get(server);
    const mtimeMs = this.#mtime(server);
    if (known && known.mtimeMs === mtimeMs) return known;
    let tools = new Map<string, string>();
    if (this.#dir !== undefined && mtimeMs !== 0) {
      try {
        const file = JSON.parse(readFileSync(this.#file(server), 'utf8')) as Partial<TrustFile>;
        tools = new Map(
          Object.entries(file.tools ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
        );
      } catch {
        // An unreadable file trusts nothing new; the next write replaces it.
      }
    } else if (known) {
      tools = known.tools;
    }
    const entry = { mtimeMs, tools };
    this.#servers.set(server, entry);
    return entry;
  }

  #save(server: string, tools: Map<string, string>): void {
    if (this.#dir !== undefined) {
      mkdirSync(this.#dir, { recursive: true });
      const file: TrustFile = {
        server,
        updatedAt: new Date(this.#now()).toISOString(),
        tools: Object.fromEntries([...tools].sort(([a], [b]) => a.localeCompare(b))),
      };
      const temporary = `${this.#file(server)}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
      renameSync(temporary, this.#file(server));
    }
    this.#servers.set(server, { mtimeMs: this.#mtime(server), tools });
  }

  #mtime(server: string): number {
    if (this.#dir === undefined) return 0;
    try {
      return statSync(this.#file(server)).mtimeMs;
    } catch {
      return 0;
    }
  }

  #file(server: string): string {
    return join(this.#dir as string, `${server}.json`);
  }
}
