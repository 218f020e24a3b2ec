/**
 * Trusted definition hashes for servers with `pinDefinitions: true`: the hash of each tool as it was
 * first seen (or last accepted with `automcp trust <server>`), kept in `<stateDir>/trusted/<server>.json`.
 *
 * Reads on the request path come from memory only. The file is read once per server ({@link load}) and
 * then looked at again by the gateway's once-a-second sweep ({@link refresh}), asynchronously, so
 * `automcp trust` in another terminal releases held-back tools within a sweep and no call ever waits on
 * the disk. Every change is a read-merge-write under a lock file, so a gateway trusting a tool on first
 * sight and a concurrent `automcp trust` never lose each other's hashes. Without a state directory the
 * store lives in memory and trust lasts as long as the process.
 *
 * The same file holds a server's review record: what a person approved with `automcp review approve`
 * (the server entry's fingerprint and each tool's hash). Trusting on first sight or with `automcp
 * trust` never writes it, so neither an agent's `automcp.trust_server` nor a first listing can release
 * a quarantined server or a tool held back for its findings.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile, withFileLock, writeJsonFile } from './jsonFile.js';

/** A tool name (qualified) and the hash of its definition. */
export interface TrustedHash {
  name: string;
  hash: string;
}

/** What a person approved for one server with `automcp review approve`. */
export interface ReviewRecord {
  approvedAt: string;
  /** Fingerprint of the server entry approved (what runs: command, args, env, url…); see security/review.ts. */
  entry: string;
  /** Qualified tool name → definition hash approved, findings and all. */
  tools: Record<string, string>;
}

interface TrustFile {
  server: string;
  updatedAt: string;
  tools: Record<string, string>;
  review?: ReviewRecord;
}

/** What one change did: the trusted hashes before it and after it. */
export interface TrustChange {
  before: ReadonlyMap<string, string>;
  after: ReadonlyMap<string, string>;
}

interface Known {
  /** Identity of the file last read or written (inode, size, mtime); '' when there is none. */
  signature: string;
  tools: ReadonlyMap<string, string>;
  review: ReviewRecord | undefined;
  /** Moves whenever `tools` changes, so callers can tell without comparing maps. */
  version: number;
}

const EMPTY: ReadonlyMap<string, string> = new Map();

/** Per-server trusted hashes, file-backed when a state directory is given. */
export class TrustStore {
  readonly #dir: string | undefined;
  readonly #now: () => number;
  readonly #servers = new Map<string, Known>();
  readonly #loading = new Map<string, Promise<void>>();

  constructor({ stateDir, now = Date.now }: { stateDir?: string; now?: () => number } = {}) {
    this.#dir = stateDir === undefined ? undefined : join(stateDir, 'trusted');
    this.#now = now;
  }

  /** The trusted hashes of `server` as last read; empty before {@link load}. No I/O. */
  trusted(server: string): ReadonlyMap<string, string> {
    return this.#servers.get(server)?.tools ?? EMPTY;
  }

  /** The review record of `server` as last read; undefined before {@link load} or without one. No I/O. */
  review(server: string): ReviewRecord | undefined {
    return this.#servers.get(server)?.review;
  }

  /** True once the file of `server` has been read (or written) by this store. No I/O. */
  loaded(server: string): boolean {
    return this.#servers.has(server);
  }

  /** A number that moves whenever the trusted hashes or review of `server` change in memory. No I/O. */
  version(server: string): number {
    return this.#servers.get(server)?.version ?? 0;
  }

  /** Reads the file of `server` once; later calls resolve at once. */
  async load(server: string): Promise<ReadonlyMap<string, string>> {
    if (!this.#servers.has(server)) {
      let loading = this.#loading.get(server);
      if (!loading) {
        loading = this.#read(server).then((read) => {
          if (!this.#servers.has(server)) this.#set(server, read.signature, read.tools, read.review);
        });
        this.#loading.set(server, loading);
        loading.finally(() => this.#loading.delete(server)).catch(() => undefined);
      }
      await loading;
    }
    return this.trusted(server);
  }

  /**
   * Reads the file of `server` again if it changed on disk since it was last read (another process
   * trusted something); true when the trusted hashes changed. What the sweep calls.
   */
  async refresh(server: string): Promise<boolean> {
    const known = this.#servers.get(server);
    if (this.#dir === undefined || known === undefined) return false;
    if ((await this.#signature(server)) === known.signature) return false;
    const read = await this.#read(server);
    const before = this.#servers.get(server)?.version;
    this.#set(server, read.signature, read.tools, read.review);
    return this.#servers.get(server)?.version !== before;
  }

  /**
   * Adds hashes for tools that have none yet (trust on first sight); known tools keep theirs. Memory is
   * updated at once; the file is merged under its lock, keeping whatever another process wrote.
   */
  async remember(server: string, tools: readonly TrustedHash[]): Promise<void> {
    const current = this.trusted(server);
    const fresh = tools.filter((tool) => !current.has(tool.name));
    if (fresh.length === 0) return;
    const next = new Map(current);
    for (const tool of fresh) next.set(tool.name, tool.hash);
    this.#set(server, this.#servers.get(server)?.signature ?? '', next, this.review(server));
    await this.#update(server, (onDisk) => {
      const missing = fresh.filter((tool) => !onDisk.has(tool.name));
      if (missing.length === 0) return undefined;
      const merged = new Map(onDisk);
      for (const tool of missing) merged.set(tool.name, tool.hash);
      return merged;
    });
  }

  /**
   * Trusts exactly `tools` for `server` (what `automcp trust` does), dropping tools no longer listed;
   * resolves with the hashes trusted before, read under the same lock as the write.
   */
  async replace(server: string, tools: readonly TrustedHash[]): Promise<TrustChange> {
    return this.#update(server, () => new Map(tools.map((tool) => [tool.name, tool.hash])));
  }

  /**
   * What `automcp review approve` records: `tools` become the trusted hashes (as with {@link replace},
   * so a pinned server holds back a later change again) and the review record of the server entry
   * `entry`. Resolves with the hashes trusted before.
   */
  async approve(server: string, { entry, tools }: { entry: string; tools: readonly TrustedHash[] }): Promise<TrustChange> {
    const review: ReviewRecord = {
      approvedAt: new Date(this.#now()).toISOString(),
      entry,
      tools: Object.fromEntries(tools.map((tool) => [tool.name, tool.hash])),
    };
    return this.#update(server, () => new Map(tools.map((tool) => [tool.name, tool.hash])), review);
  }

  /**
   * Read-merge-write of one server's file under its lock; `change` returns undefined for "nothing to
   * write". The review record on disk is kept unless `review` replaces it.
   */
  async #update(
    server: string,
    change: (onDisk: ReadonlyMap<string, string>) => ReadonlyMap<string, string> | undefined,
    review?: ReviewRecord,
  ): Promise<TrustChange> {
    if (this.#dir === undefined) {
      const before = this.trusted(server);
      const after = change(before) ?? before;
      this.#set(server, '', after, review ?? this.review(server));
      return { before, after };
    }
    const file = this.#file(server);
    return withFileLock(file, async () => {
      const read = await this.#read(server);
      const before = read.tools;
      const next = change(before);
      const kept = review ?? read.review;
      if (next !== undefined || review !== undefined) {
        const content: TrustFile = {
          server,
          updatedAt: new Date(this.#now()).toISOString(),
          tools: Object.fromEntries([...(next ?? before)].sort(([a], [b]) => a.localeCompare(b))),
          ...(kept ? { review: kept } : {}),
        };
        await writeJsonFile(file, content);
      }
      const after = next ?? before;
      this.#set(server, await this.#signature(server), after, kept);
      return { before, after };
    });
  }

  #set(server: string, signature: string, tools: ReadonlyMap<string, string>, review: ReviewRecord | undefined): void {
    const known = this.#servers.get(server);
    const same = known !== undefined && sameHashes(known.tools, tools) && JSON.stringify(known.review) === JSON.stringify(review);
    this.#servers.set(server, {
      signature,
      tools: same ? known.tools : tools,
      review: same ? known.review : review,
      version: (known?.version ?? 0) + (same ? 0 : 1),
    });
  }

  async #read(
    server: string,
  ): Promise<{ signature: string; tools: ReadonlyMap<string, string>; review: ReviewRecord | undefined }> {
    if (this.#dir === undefined) return { signature: '', tools: this.trusted(server), review: this.review(server) };
    const signature = await this.#signature(server);
    // A missing or unreadable file trusts nothing yet; the next write replaces it.
    const file = (await readJsonFile(this.#file(server))) as Partial<TrustFile> | undefined;
    const entries = Object.entries(file?.tools ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
    return { signature, tools: new Map(entries), review: parseReview(file?.review) };
  }

  /** Identity of the file on disk: a rename makes a new inode, so any write changes it. */
  async #signature(server: string): Promise<string> {
    const info = await stat(this.#file(server)).catch(() => undefined);
    return info ? `${info.ino}:${info.size}:${info.mtimeMs}` : '';
  }

  #file(server: string): string {
    return join(this.#dir as string, `${server}.json`);
  }
}

/** A review record as read from disk; anything malformed counts as no approval (fail closed). */
function parseReview(value: unknown): ReviewRecord | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Partial<ReviewRecord>;
  if (typeof record.entry !== 'string' || typeof record.approvedAt !== 'string') return undefined;
  if (record.tools === null || typeof record.tools !== 'object') return undefined;
  const tools = Object.fromEntries(Object.entries(record.tools).filter(([, hash]) => typeof hash === 'string'));
  return { approvedAt: record.approvedAt, entry: record.entry, tools };
}

function sameHashes(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, hash] of a) if (b.get(name) !== hash) return false;
  return true;
}
