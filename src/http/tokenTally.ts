/**
 * Token counting for the selection metrics, kept off the request path. Counting a 10,000-tool catalog
 * takes about 140 ms, and the first count also loads the tokenizer's ranks (about as long again); done
 * inside the observer, that ran on the call that first saw a new etag and stalled every call behind it
 * after each `list_changed`. Here the observer only queues the selection; counting starts in a later
 * event-loop turn and yields between slices of definitions, so calls keep being served while it runs.
 * The counters lag by those turns; a scrape waits for what is queued (`settled`).
 *
 * A catalog is counted once per (profile, etag) and a definition once per hash, so after a change only
 * the changed definitions are tokenized again. Counts are per definition plus the JSON envelope: within
 * a fraction of a percent of tokenizing the whole text, which the counters do not need.
 */
import { LRUCache } from 'lru-cache';
import type { CatalogTool, ToolDefinition } from '../catalog/types.js';
import type { AutomaticMcpOutput } from '../gateway/core.js';

/** One observed selection, as the tally needs it. */
export interface TalliedSelection {
  output: AutomaticMcpOutput;
  /** Identifies the caller's catalog at that selection: profile and etag. */
  catalogKey: string;
  /** The caller's catalog; read once per key, in the counting turn. */
  catalog: (() => readonly (CatalogTool | ToolDefinition)[]) | undefined;
  /** Told this selection's own counts once they are known (run traces record them). */
  counted?: (tokens: { response: number; catalog: number | undefined }) => void;
}

/** Definitions tokenized per event-loop turn (a few milliseconds' work). */
const SLICE = 200;
/** Definitions whose counts are remembered (by hash): a large catalog, under every profile. */
const DEFINITION_COUNTS = 50_000;
/** Catalogs whose totals are remembered, by (profile, etag). */
const CATALOG_COUNTS = 1_000;

/** Counts queued selections in later turns and hands the totals to the counters. */
export class TokenTally {
  readonly #count: (value: unknown) => number;
  readonly #response: (tokens: number) => void;
  readonly #catalog: (tokens: number) => void;
  readonly #definitions = new LRUCache<string, number>({ max: DEFINITION_COUNTS });
  readonly #catalogs = new LRUCache<string, number>({ max: CATALOG_COUNTS });
  #queue: TalliedSelection[] = [];
  #running: Promise<void> | undefined;
  /** Definitions tokenized since the last yield. */
  #counted = 0;

  constructor(options: {
    count: (value: unknown) => number;
    response: (tokens: number) => void;
    catalog: (tokens: number) => void;
  }) {
    this.#count = options.count;
    this.#response = options.response;
    this.#catalog = options.catalog;
  }

  /** Queues a selection; returns at once. */
  add(selection: TalliedSelection): void {
    this.#queue.push(selection);
    this.#running ??= this.#run();
  }

  /** Resolves once everything queued so far is counted. */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #run(): Promise<void> {
    try {
      await nextTurn();
      this.#counted = 0;
      while (this.#queue.length > 0) {
        const selection = this.#queue.shift()!;
        const response = await this.#responseTokens(selection.output);
        this.#response(response);
        const catalog = selection.catalog ? await this.#catalogTokens(selection.catalogKey, selection.catalog) : undefined;
        if (catalog !== undefined) this.#catalog(catalog);
        selection.counted?.({ response, catalog });
      }
    } finally {
      this.#running = undefined;
    }
  }

  async #responseTokens(output: AutomaticMcpOutput): Promise<number> {
    let tokens = this.#count({ ...output, tools: [], unchanged: [] });
    for (const tool of output.tools) tokens += await this.#cached(`full:${tool.name}:${tool.hash}`, tool);
    for (const tool of output.unchanged) tokens += await this.#cached(`name:${tool.name}:${tool.hash}`, tool);
    return tokens;
  }

  async #catalogTokens(key: string, catalog: () => readonly (CatalogTool | ToolDefinition)[]): Promise<number> {
    const known = this.#catalogs.get(key);
    if (known !== undefined) return known;
    const tools = catalog();
    // `[` and `]`; each comma between definitions joins the braces around it into one token.
    let tokens = tools.length === 0 ? 1 : 2;
    for (const tool of tools) {
      if (!isCatalogTool(tool)) tokens += await this.#tokens(tool);
      else tokens += this.#definitions.get(`def:${tool.hash}`) ?? (await this.#cached(`def:${tool.hash}`, tool.definition));
    }
    this.#catalogs.set(key, tokens);
    return tokens;
  }

  async #cached(key: string, value: unknown): Promise<number> {
    let tokens = this.#definitions.get(key);
    if (tokens === undefined) {
      tokens = await this.#tokens(value);
      this.#definitions.set(key, tokens);
    }
    return tokens;
  }

  /** Tokenizes one value, yielding to the event loop after every {@link SLICE} of them. */
  async #tokens(value: unknown): Promise<number> {
    if (++this.#counted >= SLICE) {
      this.#counted = 0;
      await nextTurn();
    }
    return this.#count(value);
  }
}

function isCatalogTool(tool: CatalogTool | ToolDefinition): tool is CatalogTool {
  return 'definition' in tool && 'hash' in tool;
}

/** Resolves in a later event-loop turn, after pending I/O: requests waiting to be served go first. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
