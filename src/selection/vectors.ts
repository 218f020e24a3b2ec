/**
 * Tool vectors for the hybrid ranking: every tool definition is embedded once per definition hash, in
 * the background, and kept in memory and in the state directory's vector file (state/vectorFile.ts), so
 * a restart embeds nothing and a catalog change embeds only the tools whose definition changed.
 *
 * Nothing waits for it: until every tool a caller sees has a vector, that caller's ranking is lexical.
 * The embedding service may be down or slow: a failed or late call (documents or a query) starts an
 * outage — one warning, then quiet — during which queries are not sent at all (so selections do not pay
 * the timeout each time) until a retry after a growing pause succeeds.
 */
import type { CatalogTool } from '../catalog/types.js';
import type { Logger } from '../logging/logger.js';
import { mergeVectorFile, readVectorFile, vectorFilePath } from '../state/vectorFile.js';
import { BATCH_TIMEOUT_FACTOR, type EmbeddingModel } from './embeddings.js';
import type { RankedTool } from './lexical.js';
import { clip } from './prompts.js';
import { splitWords } from './text.js';

/** Tools per embedding request. */
export const BATCH_SIZE = 64;
/** Vectors computed before they are written to the cache file mid-way through a large catalog. */
const SAVE_EVERY = 1_024;
/** First pause after a failure before the service is asked again; doubles up to {@link MAX_RETRY_MS}. */
export const RETRY_MS = 15_000;
export const MAX_RETRY_MS = 300_000;
/** Characters of a tool's description that are embedded (small encoders read ~256 tokens). */
const TEXT_CHARS = 1_000;

/** What `automcp status` shows about the embeddings. */
export interface EmbeddingsStatus {
  model: string;
  /** `loading` the cache, `embedding` tools, `ready` (every tool embedded) or `unavailable` (an outage). */
  state: 'loading' | 'embedding' | 'ready' | 'unavailable';
  /** Tools of the catalog that have a vector. */
  embedded: number;
  total: number;
  /** The outage's error, while there is one. */
  error?: string;
}

/** The embedded text of a tool: its server and name as words, then its description. */
export function toolText(tool: CatalogTool): string {
  const name = `${splitWords(tool.server).join(' ')} ${splitWords(tool.tool).join(' ')}`;
  const description = clip(tool.definition.description ?? '', TEXT_CHARS);
  return description ? `${name}: ${description}` : name;
}

/** Scales a vector to unit length (cosine similarity becomes a dot product); undefined for a bad one. */
export function unit(values: readonly number[] | Float32Array): Float32Array | undefined {
  let norm = 0;
  for (const value of values) norm += value * value;
  norm = Math.sqrt(norm);
  if (!Number.isFinite(norm) || norm === 0) return undefined;
  const vector = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) vector[i] = values[i]! / norm;
  return vector;
}

/** The tool vectors of one gateway (or benchmark). */
export class ToolVectors {
  readonly #model: Required<Pick<EmbeddingModel, 'embedder' | 'label' | 'space'>> & Pick<EmbeddingModel, 'timeoutMs' | 'scrub'>;
  readonly #logger: Logger;
  readonly #file: string | undefined;
  readonly #now: () => number;
  readonly #vectors = new Map<string, Float32Array>();
  #dimension: number | undefined;
  #tools: readonly CatalogTool[] = [];
  #loaded: Promise<void> | undefined;
  #loadDone = false;
  #running: Promise<void> | undefined;
  #closed = false;
  /** The current outage: its error, when the service may be asked again, the next pause. */
  #outage: { error: string; retryAt: number; pauseMs: number } | undefined;

  constructor({
    model,
    logger,
    stateDir,
    now = Date.now,
  }: {
    model: EmbeddingModel;
    logger: Logger;
    /** Where the vector file lives; without it vectors last as long as the process. */
    stateDir?: string;
    now?: () => number;
  }) {
    if (!model.embedder || !model.label || !model.space) throw new Error('ToolVectors needs a resolved embedder');
    this.#model = {
      embedder: model.embedder,
      label: model.label,
      space: model.space,
      timeoutMs: model.timeoutMs,
      scrub: model.scrub,
    };
    this.#logger = logger;
    this.#file = stateDir !== undefined ? vectorFilePath(stateDir, model.space) : undefined;
    this.#now = now;
  }

  /** `provider:model`. */
  get label(): string {
    return this.#model.label;
  }

  /**
   * The catalog is now `tools`: embed, in the background, those without a vector. Never waits; work
   * already running picks the new list up when its current batches are done.
   */
  sync(tools: readonly CatalogTool[]): void {
    this.#tools = tools;
    if (this.#closed || this.#running) return;
    this.#running = this.#run().finally(() => (this.#running = undefined));
  }

  /**
   * Resolves once the vector file has been read (a local read of a few MB; embedding is never waited
   * for), so a selection right after start-up can already use cached vectors.
   */
  async loaded(): Promise<void> {
    await this.#loaded;
  }

  /** Resolves when no embedding work is running (benchmarks, tests). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stops background work after the current request. */
  close(): void {
    this.#closed = true;
  }

  /**
   * True when every one of `tools` has a vector: only then is a ranking by meaning fair to all of them.
   * When some lack one and no work is running, it is started again (after an outage's pause).
   */
  covers(tools: readonly CatalogTool[]): boolean {
    for (const tool of tools) {
      if (!this.#vectors.has(tool.hash)) {
        if (!this.#running && !this.#paused() && !this.#closed) this.sync(this.#tools.length > 0 ? this.#tools : tools);
        return false;
      }
    }
    return this.#dimension !== undefined;
  }

  /**
   * Embeds query texts in one request, bounded by `timeoutMs` and `signal`. Undefined during an outage
   * or when the call fails (which starts or extends one); a cancelled request rejects with its reason.
   */
  async embedQueries(texts: string[], signal?: AbortSignal): Promise<{ vectors?: Float32Array[]; error?: string }> {
    signal?.throwIfAborted();
    if (this.#paused()) return { error: `unavailable: ${this.#outage!.error}` };
    try {
      const raw = await bounded(this.#model.embedder.embedDocuments(texts), this.#model.timeoutMs, signal);
      const vectors = raw.map((values) => unit(values));
      const dimension = vectors[0]?.length;
      if (dimension !== undefined && dimension !== this.#dimension && vectors.every((vector) => vector?.length === dimension)) {
        // The service answers fine, in another space (the model behind the name changed): the tool
        // vectors mean nothing now. Rank lexically while they are computed again.
        this.#logger.warn({ model: this.#model.label, dimension }, 'embedding dimension changed; re-embedding every tool');
        this.#vectors.clear();
        this.#dimension = undefined;
        this.sync(this.#tools);
        return { error: `the embedding dimension changed to ${dimension}` };
      }
      if (vectors.length !== texts.length || vectors.some((vector) => vector?.length !== this.#dimension)) {
        throw new Error(`the answer is not ${texts.length} vector(s) of dimension ${this.#dimension}`);
      }
      this.#recovered();
      return { vectors: vectors as Float32Array[] };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      return { error: this.#failed(error) };
    }
  }

  /** Embeds one short text, past any outage, for `automcp check --probe`: proves URL, key and model. */
  async probe(): Promise<{ ok: boolean; latencyMs: number; dimension?: number; error?: string }> {
    const started = performance.now();
    try {
      const [vector] = await bounded(
        this.#model.embedder.embedDocuments(['Will it rain in Paris tomorrow?']),
        this.#model.timeoutMs,
      );
      const latencyMs = Math.round(performance.now() - started);
      if (!vector || !unit(vector)) return { ok: false, latencyMs, error: 'the answer holds no usable vector' };
      return { ok: true, latencyMs, dimension: vector.length };
    } catch (error) {
      const message = this.#model.scrub(clip(error instanceof Error ? error.message : String(error), 300));
      return { ok: false, latencyMs: Math.round(performance.now() - started), error: message };
    }
  }

  /** `tools` by cosine similarity to `query` (a unit vector), best first, at most `limit`. */
  rank(tools: readonly CatalogTool[], query: Float32Array, limit: number): RankedTool[] {
    // Only the best `limit` are kept, best first, in a small sorted buffer: sorting all 10,000 scores
    // cost as much as computing them.
    const top: RankedTool[] = [];
    const before = (a: RankedTool, b: RankedTool) => a.score > b.score || (a.score === b.score && a.tool.name < b.tool.name);
    for (const tool of tools) {
      const vector = this.#vectors.get(tool.hash);
      if (!vector || limit <= 0) continue;
      let score = 0;
      for (let i = 0; i < vector.length; i++) score += vector[i]! * query[i]!;
      const entry = { tool, score };
      if (top.length === limit && !before(entry, top[limit - 1]!)) continue;
      let at = top.length;
      while (at > 0 && before(entry, top[at - 1]!)) at--;
      top.splice(at, 0, entry);
      if (top.length > limit) top.pop();
    }
    return top;
  }

  /** What `automcp status` shows. */
  status(): EmbeddingsStatus {
    const embedded = this.#tools.filter((tool) => this.#vectors.has(tool.hash)).length;
    const total = this.#tools.length;
    const state = this.#outage ? 'unavailable' : !this.#loadDone ? 'loading' : embedded < total ? 'embedding' : 'ready';
    return { model: this.#model.label, state, embedded, total, ...(this.#outage ? { error: this.#outage.error } : {}) };
  }

  async #run(): Promise<void> {
    this.#loaded ??= this.#load();
    await this.#loaded;
    for (;;) {
      const missing = uniqueByHash(this.#tools.filter((tool) => !this.#vectors.has(tool.hash)));
      if (missing.length === 0 || this.#closed) return;
      const fresh = new Map<string, Float32Array>();
      for (let at = 0; at < missing.length && !this.#closed; at += BATCH_SIZE) {
        const batch = missing.slice(at, at + BATCH_SIZE);
        try {
          const raw = await bounded(
            this.#model.embedder.embedDocuments(batch.map(toolText)),
            this.#model.timeoutMs * BATCH_TIMEOUT_FACTOR,
          );
          if (raw.length !== batch.length) throw new Error(`asked for ${batch.length} vectors, got ${raw.length}`);
          this.#take(batch, raw, fresh);
          // A large catalog is saved as it goes: a process stopped half way keeps what it paid for.
          if (fresh.size >= SAVE_EVERY) {
            await this.#save(fresh);
            fresh.clear();
          }
          this.#recovered();
        } catch (error) {
          this.#failed(error);
          break;
        }
      }
      if (fresh.size > 0) await this.#save(fresh);
      if (this.#paused()) return;
    }
  }

  /** Adds a batch's vectors; a batch whose dimension differs from the cache's replaces the cache. */
  #take(batch: readonly CatalogTool[], raw: number[][], fresh: Map<string, Float32Array>): void {
    batch.forEach((tool, i) => {
      const vector = unit(raw[i] ?? []);
      if (!vector) throw new Error(`no usable vector for ${tool.name}`);
      if (this.#dimension !== vector.length) {
        // The model behind the name changed (or this is the first vector): old vectors mean nothing now.
        if (this.#dimension !== undefined)
          this.#logger.warn({ model: this.#model.label }, 'embedding dimension changed; re-embedding every tool');
        this.#dimension = vector.length;
        this.#vectors.clear();
        fresh.clear();
      }
      this.#vectors.set(tool.hash, vector);
      fresh.set(tool.hash, vector);
    });
  }

  async #load(): Promise<void> {
    try {
      await this.#read();
    } finally {
      this.#loadDone = true;
    }
  }

  async #read(): Promise<void> {
    if (this.#file === undefined) return;
    const read = await readVectorFile(this.#file, this.#model.space);
    if (read.kind === 'corrupt') {
      this.#logger.warn({ file: this.#file, reason: read.reason }, 'tool vector cache is unreadable; embedding the tools again');
      return;
    }
    if (read.kind === 'missing') return;
    this.#dimension = read.table.dimension;
    for (const [hash, vector] of read.table.vectors) this.#vectors.set(hash, vector);
    this.#logger.debug({ file: this.#file, vectors: read.table.vectors.size }, 'tool vectors loaded');
  }

  async #save(fresh: Map<string, Float32Array>): Promise<void> {
    if (this.#file === undefined || this.#dimension === undefined) return;
    try {
      await mergeVectorFile({
        file: this.#file,
        space: this.#model.space,
        fresh: { dimension: this.#dimension, vectors: fresh },
        keep: new Set(this.#tools.map((tool) => tool.hash)),
      });
    } catch (error) {
      // The vectors are still in memory; only the next start-up pays for them again.
      this.#logger.warn({ file: this.#file, err: (error as Error).message }, 'could not write the tool vector cache');
    }
  }

  #paused(): boolean {
    return this.#outage !== undefined && this.#now() < this.#outage.retryAt;
  }

  /** Records a failure: the first of an outage is a warning, later ones only debug lines. */
  #failed(error: unknown): string {
    const message = this.#model.scrub(clip(error instanceof Error ? error.message : String(error), 300));
    const pauseMs = this.#outage ? Math.min(this.#outage.pauseMs * 2, MAX_RETRY_MS) : RETRY_MS;
    if (!this.#outage) {
      this.#logger.warn(
        { model: this.#model.label, error: message },
        'selector.embeddings gave no usable answer; ranking lexically until it answers again',
      );
    } else this.#logger.debug({ model: this.#model.label, error: message }, 'selector.embeddings still unavailable');
    this.#outage = { error: message, retryAt: this.#now() + pauseMs, pauseMs };
    return message;
  }

  #recovered(): void {
    if (!this.#outage) return;
    this.#outage = undefined;
    this.#logger.info({ model: this.#model.label }, 'selector.embeddings answers again');
  }
}

/** Resolves with `work`, or rejects when `timeoutMs` passes or `signal` aborts first. */
async function bounded<T>(work: Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let cancel: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    if (signal) {
      cancel = () => reject(signal.reason);
      signal.addEventListener('abort', cancel, { once: true });
    }
  });
  // A late answer still settles `work`; nothing may see it as unhandled.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    if (cancel) signal?.removeEventListener('abort', cancel);
  }
}

function uniqueByHash(tools: readonly CatalogTool[]): CatalogTool[] {
  const seen = new Set<string>();
  return tools.filter((tool) => !seen.has(tool.hash) && Boolean(seen.add(tool.hash)));
}
