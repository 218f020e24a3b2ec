/**
 * The run trace store: JSON Lines files in `<stateDir>/runs/`, append-only. Calls never wait for it:
 * `append` puts the record in a bounded buffer and a timer flushes the buffer with one asynchronous
 * append, so the request path costs a push. Each process writes its own segment files (several gateways
 * share a state directory, and one writer per file keeps lines whole); a segment is closed when it
 * reaches its share of `maxMegabytes` or is a day old, and pruning deletes segments last written more
 * than `maxDays` ago, then the oldest, until the folder fits `maxMegabytes`. A store that cannot write
 * (read-only disk, full disk) warns once and drops records until a write succeeds again: traces are for
 * debugging, and must never fail a call.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logging/logger.js';
import { findTrace, queryTraces, SEGMENT_SUFFIX, type TraceQuery } from './query.js';
import type { TraceRecord } from './record.js';

/** Where run traces go and how they are read back; what the `runs` command and ops tools use. */
export interface TraceStore {
  /** The folder holding the segment files. */
  readonly dir: string;
  /** Queues one record; returns at once and never throws. */
  append(record: TraceRecord): void;
  /** The runs matching `query`, newest first, this process's queued ones included. */
  list(query?: TraceQuery): Promise<TraceRecord[]>;
  /** One run by id, or undefined. */
  get(runId: string): Promise<TraceRecord | undefined>;
  /** Writes what is queued now. */
  flush(): Promise<void>;
  /** Writes what is queued and stops taking records. */
  close(): Promise<void>;
  /**
   * Each write first waits for `pending` (records still being completed in the background, like a
   * selection's token counts), so what is written is whole. Optional: a reader has nothing to wait for.
   */
  waitBeforeWriting?(pending: () => Promise<void>): void;
}

/** Defaults of runtime.yaml's `traces:` block. */
export const TRACE_DEFAULTS = { enabled: true, maxMegabytes: 32, maxDays: 7, includeArguments: false } as const;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** How long a record waits in the buffer before it is written. */
export const FLUSH_DELAY_MS = 200;
/** Records held while writes are slow; beyond it new records are dropped (and one warning said). */
export const MAX_BUFFERED = 5_000;

/** Options of {@link createTraceStore}. */
export interface TraceStoreOptions {
  /** `<stateDir>/runs`. */
  dir: string;
  /** Bytes the folder may hold in all. */
  maxBytes: number;
  /** Segments last written longer ago than this are deleted. */
  maxAgeMs: number;
  logger: Logger;
  /** The clock: segment names, segment age, pruning age. */
  now?: () => number;
  flushDelayMs?: number;
  maxBuffered?: number;
}

/** Opens the store of `dir` for this process. Nothing touches the disk before the first flush. */
export function createTraceStore(options: TraceStoreOptions): TraceStore {
  return new FileTraceStore(options);
}

/** Reads the runs of `dir` without writing anything (the `runs` command). */
export function openTraceReader(dir: string): Pick<TraceStore, 'dir' | 'list' | 'get'> {
  return { dir, list: (query) => queryTraces(dir, query), get: (runId) => findTrace(dir, runId) };
}

class FileTraceStore implements TraceStore {
  readonly dir: string;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  /** A segment takes at most an eighth of the budget, so pruning frees space in small steps. */
  readonly #segmentBytes: number;
  /** Segments close after a day (sooner when records are kept less than four days), so age pruning bites. */
  readonly #segmentAgeMs: number;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #flushDelayMs: number;
  readonly #maxBuffered: number;
  #buffer: TraceRecord[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #segment: { file: string; name: string; started: number; bytes: number } | undefined;
  #sequence = 0;
  /** Names this store's files apart from those of other processes, and of other stores in this one. */
  readonly #writer = `${process.pid}-${randomBytes(3).toString('hex')}`;
  #lastPrune = -Infinity;
  #failing = false;
  #dropping = false;
  #closed = false;
  #pending: (() => Promise<void>) | undefined;

  constructor(options: TraceStoreOptions) {
    this.dir = options.dir;
    this.#maxBytes = options.maxBytes;
    this.#maxAgeMs = options.maxAgeMs;
    this.#segmentBytes = Math.max(4_096, Math.floor(options.maxBytes / 8));
    this.#segmentAgeMs = Math.min(DAY_MS, options.maxAgeMs / 4);
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#flushDelayMs = options.flushDelayMs ?? FLUSH_DELAY_MS;
    this.#maxBuffered = options.maxBuffered ?? MAX_BUFFERED;
  }

  append(record: TraceRecord): void {
    if (this.#closed) return;
    if (this.#buffer.length >= this.#maxBuffered) {
      if (!this.#dropping) {
        this.#dropping = true;
        this.#logger.warn(
          { dir: this.dir, buffered: this.#buffer.length },
          'run traces are written too slowly; dropping new ones',
        );
      }
      return;
    }
    this.#dropping = false;
    this.#buffer.push(record);
    if (!this.#timer) {
      this.#timer = setTimeout(() => void this.flush(), this.#flushDelayMs);
      this.#timer.unref();
    }
  }

  async list(query?: TraceQuery): Promise<TraceRecord[]> {
    await this.flush();
    return queryTraces(this.dir, query);
  }

  async get(runId: string): Promise<TraceRecord | undefined> {
    await this.flush();
    return findTrace(this.dir, runId);
  }

  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // One write at a time, in order: a flush asked during a write follows it.
    this.#writing = this.#writing.then(() => this.#write());
    return this.#writing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  waitBeforeWriting(pending: () => Promise<void>): void {
    this.#pending = pending;
  }

  async #write(): Promise<void> {
    if (this.#buffer.length === 0) return;
    await this.#pending?.().catch(() => undefined);
    const records = this.#buffer;
    this.#buffer = [];
    try {
      // Serialised here, off the request path.
      const chunk = `${records.map((record) => JSON.stringify(record)).join('\n')}\n`;
      const bytes = Buffer.byteLength(chunk);
      const segment = await this.#segmentFor(bytes);
      await appendFile(segment.file, chunk, { mode: 0o600 });
      segment.bytes += bytes;
      if (this.#failing) {
        this.#failing = false;
        this.#logger.info({ dir: this.dir }, 'run traces are written again');
      }
      if (this.#now() - this.#lastPrune >= HOUR_MS) await this.#prune();
    } catch (error) {
      // Start a fresh segment next time: the folder may have been removed, or become writable again.
      this.#segment = undefined;
      if (!this.#failing) {
        this.#failing = true;
        this.#logger.warn(
          { dir: this.dir, err: (error as Error).message, dropped: records.length },
          'cannot write run traces; calls go on without them (check that the state directory is writable)',
        );
      }
    }
  }

  /** The segment this write goes to: the current one, or a new one when it is full or old. */
  async #segmentFor(bytes: number): Promise<{ file: string; name: string; started: number; bytes: number }> {
    const now = this.#now();
    const current = this.#segment;
    if (
      current &&
      (current.bytes === 0 || current.bytes + bytes <= this.#segmentBytes) &&
      now - current.started < this.#segmentAgeMs
    ) {
      return current;
    }
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // Names sort by start time, so "oldest first" is a sort of the names.
    const stamp = new Date(now).toISOString().replace(/:/g, '-');
    const name = `${stamp}-${this.#writer}-${String(this.#sequence++).padStart(6, '0')}${SEGMENT_SUFFIX}`;
    this.#segment = { file: join(this.dir, name), name, started: now, bytes: 0 };
    if (current) this.#lastPrune = -Infinity;
    return this.#segment;
  }

  /** Deletes segments older than `maxDays`, then the oldest until the folder fits `maxMegabytes`. */
  async #prune(): Promise<void> {
    const now = this.#now();
    this.#lastPrune = now;
    const active = this.#segment?.name;
    const names = (await readdir(this.dir)).filter((name) => name.endsWith(SEGMENT_SUFFIX)).sort();
    const kept: { name: string; size: number }[] = [];
    for (const name of names) {
      const info = await stat(join(this.dir, name)).catch(() => undefined);
      if (!info) continue;
      if (name !== active && now - info.mtimeMs > this.#maxAgeMs) await this.#remove(name);
      else kept.push({ name, size: info.size });
    }
    let total = kept.reduce((sum, entry) => sum + entry.size, 0);
    for (const entry of kept) {
      if (total <= this.#maxBytes) break;
      if (entry.name === active) continue;
      await this.#remove(entry.name);
      total -= entry.size;
    }
  }

  async #remove(name: string): Promise<void> {
    // Another gateway sharing the folder may have pruned it first.
    await unlink(join(this.dir, name)).catch(() => undefined);
  }
}
