/**
 * What each server's tool list becomes in the catalog. A live list replaces the cached one and is
 * written back to the catalog cache; the list of a pinned, quarantined or flagged server passes
 * through its pins and review first, never before its trust file was read, and is filtered again when
 * that trust changes. The registry decides which connection serves a server and when it runs; this
 * module only keeps the catalog in step with what the servers listed, so the two can change apart.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Catalog } from '../catalog/catalog.js';
import type { ServerSpec } from '../config/load.js';
import type { Logger } from '../logging/logger.js';
import type { CatalogCache } from '../state/catalogCache.js';
import type { TrustStore } from '../state/trustFile.js';
import { DefinitionPins, type HeldTool } from './pins.js';
import { DefinitionReview, isQuarantined } from './review.js';

/** What the catalog side adds to a server's status. */
export interface CatalogStatus {
  /** True when the server has not started and its tools came from the cache. */
  fromCache: boolean;
  tools: number;
  heldBack?: number;
  quarantined?: boolean;
  flagged?: number;
}

/** The catalog as fed by the servers' tool lists. */
export class CatalogFeed {
  readonly #catalog: Catalog;
  readonly #logger: Logger;
  readonly #cache: CatalogCache | undefined;
  readonly #trust: TrustStore;
  readonly #pins: DefinitionPins;
  readonly #review: DefinitionReview;
  /** Servers whose catalog part came from the cache and that have not listed live since. */
  readonly #fromCache = new Set<string>();
  /** The last raw list of each server, to filter again when trust changes. */
  readonly #lists = new Map<string, Tool[]>();
  /** The last live list of each pinned server being applied, so the next one waits its turn. */
  readonly #pinnedApplies = new Map<string, Promise<void>>();

  constructor({
    catalog,
    logger,
    cache,
    trust,
  }: {
    catalog: Catalog;
    logger: Logger;
    cache: CatalogCache | undefined;
    trust: TrustStore;
  }) {
    this.#catalog = catalog;
    this.#logger = logger;
    this.#cache = cache;
    this.#trust = trust;
    this.#pins = new DefinitionPins({ trust, catalog, logger });
    this.#review = new DefinitionReview({ trust, catalog, logger });
  }

  /** The cached tool list of a server, if the cache has one for its current entry. */
  async readCache(spec: ServerSpec): Promise<Tool[] | undefined> {
    const entry = await this.#cache?.read(spec).catch(() => undefined);
    return entry?.tools;
  }

  /** Puts a server's cached list in the catalog, after its trust file when it needs one. */
  async applyCached(spec: ServerSpec, cached: Tool[]): Promise<void> {
    if (spec.pinDefinitions || this.#review.needsRecord(spec, cached)) await this.#trust.load(spec.name);
    // A call may have started the server while the cache was read: its live list wins.
    if (this.#lists.has(spec.name)) return;
    this.#fromCache.add(spec.name);
    this.#apply(spec, cached);
  }

  /** A live list: it replaces the cached one (a difference moves the etag) and refreshes the cache. */
  applyLive(spec: ServerSpec, tools: Tool[]): Promise<void> | void {
    // A pinned, quarantined or flagged list is never let in before its trust file is read; lists of one
    // server are applied in the order they arrived even when the first one waits for that read.
    if (spec.pinDefinitions || this.#pinnedApplies.has(spec.name) || this.#review.needsRecord(spec, tools)) {
      const applied = (this.#pinnedApplies.get(spec.name) ?? this.#pins.load(spec.name)).then(() =>
        this.#applyLiveNow(spec, tools),
      );
      this.#pinnedApplies.set(
        spec.name,
        applied.catch(() => undefined),
      );
      return applied;
    }
    this.#applyLiveNow(spec, tools);
  }

  /** The server will list live again (it was restarted): its tools no longer count as cached. */
  restarted(server: string): void {
    this.#fromCache.delete(server);
  }

  /** Forgets what the server listed (it was removed, or replaced by a changed entry). */
  forget(server: string): void {
    this.#lists.delete(server);
    this.#fromCache.delete(server);
    this.#pinnedApplies.delete(server);
    this.#review.forget(server);
  }

  /** Every held-back tool of `server`: pinned definitions that changed, and tools waiting for review. */
  heldOf(server: string): HeldTool[] {
    return [...this.#pins.heldOf(server), ...this.#review.heldOf(server)];
  }

  /** The tool held back under this qualified name (pinned and changed, or waiting for review), if any. */
  heldBack(name: string): HeldTool | undefined {
    return this.#pins.heldBack(name) ?? this.#review.heldBack(name);
  }

  /**
   * Filters the lists of pinned servers again when their trusted hashes changed since (the sweep saw
   * `automcp trust` run in another process), so accepted tools come back without a restart. Memory
   * only: it runs on every call, and the disk is read by the sweep.
   */
  syncTrust(servers: Iterable<{ readonly spec: ServerSpec }>): void {
    for (const { spec } of servers) {
      const tools = this.#lists.get(spec.name);
      const pinned = spec.pinDefinitions === true && this.#pins.trustChanged(spec.name);
      if (tools && (pinned || this.#review.trustChanged(spec.name))) this.#apply(spec, tools);
    }
  }

  /**
   * Reads the trust files of pinned and reviewed servers again where they changed on disk; the caller
   * then re-filters with {@link syncTrust}, over the servers configured by the time the reads are done.
   */
  async reloadTrust(servers: Iterable<{ readonly spec: ServerSpec }>): Promise<void> {
    const pinned = Array.from(servers, ({ spec }) => spec).filter(
      (spec) => (spec.pinDefinitions || this.#review.watches(spec.name)) && this.#lists.has(spec.name),
    );
    await Promise.all(
      pinned.map((spec) =>
        this.#pins.refresh(spec.name).catch((error: unknown) => {
          this.#logger.warn({ server: spec.name, err: (error as Error).message }, 'could not read the trusted hashes');
        }),
      ),
    );
  }

  /** What the catalog says about a server, for its status. */
  statusOf(spec: ServerSpec): CatalogStatus {
    const reviewed = this.#review.heldOf(spec.name);
    const held = this.#pins.heldOf(spec.name).length + reviewed.length;
    const flagged = reviewed.filter((tool) => tool.reason === 'poisoning').length;
    return {
      fromCache: this.#fromCache.has(spec.name),
      tools: this.#catalog.server(spec.name)?.tools.length ?? 0,
      ...(held > 0 ? { heldBack: held } : {}),
      ...(isQuarantined(spec, this.#trust) ? { quarantined: true } : {}),
      ...(flagged > 0 ? { flagged } : {}),
    };
  }

  /** Resolves once trust writes in progress have finished. */
  settled(): Promise<void> {
    return this.#pins.settled();
  }

  #applyLiveNow(spec: ServerSpec, tools: Tool[]): void {
    this.#fromCache.delete(spec.name);
    this.#apply(spec, tools);
    this.#cache?.write(spec, tools).catch((error: unknown) => {
      this.#logger.warn({ server: spec.name, err: (error as Error).message }, 'could not write the catalog cache');
    });
  }

  #apply(spec: ServerSpec, tools: Tool[]): void {
    this.#lists.set(spec.name, tools);
    const accepted = this.#review.filter(spec, spec.pinDefinitions ? this.#pins.filter(spec.name, tools) : tools);
    const change = this.#catalog.setServerTools(spec.name, spec.description ?? '', accepted);
    for (const changed of change.changed) {
      this.#logger.warn(
        { server: spec.name, tool: changed.name, before: changed.before, after: changed.after },
        'tool definition changed',
      );
    }
  }
}
