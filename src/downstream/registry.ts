/**
 * All downstream servers: starts them (or answers from the catalog cache and starts them on first use),
 * keeps the catalog in step with their tool lists, routes calls by server name, and runs the periodic
 * sweep that stops idle servers, keeps `lazy: false` servers running and retries failed ones. One
 * server that fails to start or dies never stops the others. What a tool list becomes in the catalog
 * (cache, pins, review) is catalogFeed.ts.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ServerSpec } from '../config/load.js';
import type { Catalog } from '../catalog/catalog.js';
import { canonicalJson } from '../catalog/hash.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { CatalogCache } from '../state/catalogCache.js';
import { CatalogFeed } from './catalogFeed.js';
import { DEFAULT_IDLE_TIMEOUT_SECONDS, DownstreamConnection, type CallOptions, type ConnectionState } from './connection.js';
import type { HeldTool } from './pins.js';
import type { UpstreamPeer } from './relay.js';
import type { TransportFactory } from './transport.js';
import { TrustStore } from '../state/trustFile.js';

/** Servers started at once at boot; the rest wait for a free slot. */
export const BOOT_CONCURRENCY = 4;

/** A server's state as reported: the connection's, or `cached` when its tools come from the cache. */
export type ServerState = ConnectionState | 'cached';

/** One server's state for `check` and status output. */
export interface ServerStatus {
  name: string;
  state: ServerState;
  pid?: number;
  tools: number;
  /** Tools held back: by `pinDefinitions`, quarantine or findings (`automcp review` shows them). */
  heldBack?: number;
  /** True while the server waits for `automcp review approve` (its entry says `quarantine: true`). */
  quarantined?: boolean;
  /** Tools held back for what the poisoning scanner found in their definitions. */
  flagged?: number;
  /** While down: when it will be retried (ISO 8601). */
  downUntil?: string;
  lastError?: string;
}

/** What a reconfiguration changed, by server name. */
export interface ReconcileReport {
  added: string[];
  removed: string[];
  changed: string[];
  /** Resolves when the added and changed servers have started (or failed, or gone lazy from the cache). */
  started: Promise<void>;
}

/** Longest a removed or changed server's in-flight calls are waited for before it is stopped anyway. */
export const RETIRE_DRAIN_MS = 60_000;

/** Options of {@link DownstreamRegistry}. */
export interface RegistryOptions {
  servers: readonly ServerSpec[];
  catalog: Catalog;
  logger: Logger;
  transports: TransportFactory;
  startTimeoutMs?: number;
  /** Milliseconds now, for backoff, cool-down and idle time. */
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** The catalog cache; without it every server starts at boot. */
  cache?: CatalogCache;
  /** Trusted hashes of pinned servers; default: in memory. */
  trust?: TrustStore;
  /** When false, `start()` ignores the cache and starts every server (what `automcp check` needs). */
  useCache?: boolean;
}

/** The set of downstream connections. */
export class DownstreamRegistry {
  readonly #connections = new Map<string, DownstreamConnection>();
  readonly #catalog: Catalog;
  /** The servers' tool lists as the catalog has them, with their pins and review. */
  readonly #feed: CatalogFeed;
  readonly #useCache: boolean;
  /** Connections taken out by a reconfiguration or restart and still being stopped. */
  readonly #retiring = new Set<Promise<void>>();
  readonly #options: RegistryOptions;
  /** Set by {@link close}: a shutdown does not wait for calls in flight on retired connections. */
  #closing = false;
  /** `instances: per-caller` servers: each caller's own connection, by server then caller. */
  readonly #instances = new Map<string, Map<string, DownstreamConnection>>();

  constructor(options: RegistryOptions) {
    this.#options = options;
    this.#catalog = options.catalog;
    this.#useCache = options.useCache ?? true;
    const trust = options.trust ?? new TrustStore();
    this.#feed = new CatalogFeed({ catalog: options.catalog, logger: options.logger, cache: options.cache, trust });
    for (const spec of options.servers) {
      if (spec.enabled === false) continue;
      this.#catalog.declareServer(spec.name, spec.description ?? '');
      this.#connections.set(spec.name, this.#createConnection(spec));
    }
  }

  #createConnection(spec: ServerSpec): DownstreamConnection {
    const options = this.#options;
    const connection: DownstreamConnection = new DownstreamConnection({
      spec,
      logger: options.logger,
      transports: options.transports,
      ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
      ...(options.now ? { now: options.now } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      // A connection that a reconfiguration or restart replaced must not write over its successor's list.
      onTools: (tools) => (this.#connections.get(spec.name) === connection ? this.#feed.applyLive(spec, tools) : undefined),
    });
    return connection;
  }

  /**
   * The connection that serves `caller` on `server`: the server's own, or for an `instances:
   * per-caller` server the caller's, made on its first use (it starts on the call, like any lazy
   * server). The server's own connection still lists the tools for the catalog.
   */
  connectionFor(server: string, caller: string | undefined): DownstreamConnection | undefined {
    const shared = this.#connections.get(server);
    if (!shared || shared.spec.instances !== 'per-caller' || caller === undefined) return shared;
    let byCaller = this.#instances.get(server);
    if (!byCaller) this.#instances.set(server, (byCaller = new Map()));
    let own = byCaller.get(caller);
    if (!own) byCaller.set(caller, (own = this.#createConnection(shared.spec)));
    return own;
  }

  /** Every connection: the servers' own, then the per-caller ones. */
  #all(): DownstreamConnection[] {
    return [...this.#connections.values(), ...[...this.#instances.values()].flatMap((byCaller) => [...byCaller.values()])];
  }

  /**
   * Boot: a server with a cached tool list (and not `lazy: false`) is not started — its cached tools
   * enter the catalog and it starts on first use. The others start, {@link BOOT_CONCURRENCY} at a time.
   * Failures are logged and reported, never thrown.
   */
  async start(): Promise<ServerStatus[]> {
    await this.#boot([...this.#connections.values()]);
    return this.status();
  }

  async #boot(connections: readonly DownstreamConnection[]): Promise<void> {
    const boot: DownstreamConnection[] = [];
    for (const connection of connections) {
      const cached =
        this.#options.cache && this.#useCache && connection.spec.lazy !== false
          ? await this.#feed.readCache(connection.spec)
          : undefined;
      if (cached) await this.#feed.applyCached(connection.spec, cached);
      else boot.push(connection);
    }
    const queue = [...boot];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await next.ensure().catch(() => undefined);
    };
    await Promise.all(Array.from({ length: Math.min(BOOT_CONCURRENCY, queue.length) }, worker));
  }

  /**
   * Brings the servers in line with a new configuration: servers no longer configured (or now
   * `enabled: false`) leave the catalog at once and are stopped, with their children, once their calls
   * in flight have finished (at most {@link RETIRE_DRAIN_MS}); servers whose entry changed are replaced
   * by a fresh connection the same way; new servers join and start (or go lazy from the cache).
   * New calls go to the new connections from the moment this returns.
   */
  reconcile(specs: readonly ServerSpec[]): ReconcileReport {
    const next = new Map(specs.filter((spec) => spec.enabled !== false).map((spec) => [spec.name, spec]));
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    const fresh: DownstreamConnection[] = [];
    for (const [name, connection] of [...this.#connections]) {
      const spec = next.get(name);
      if (spec && canonicalJson(spec) === canonicalJson(connection.spec)) continue;
      this.#forget(name);
      if (spec) {
        changed.push(name);
        // Same place in the catalog's order; its tools come back when the new connection lists them.
        this.#catalog.setServerTools(name, spec.description ?? '', []);
        const replacement = this.#createConnection(spec);
        this.#connections.set(name, replacement);
        fresh.push(replacement);
      } else {
        removed.push(name);
        this.#connections.delete(name);
        this.#catalog.removeServer(name);
      }
      this.#retire(connection, { drain: true });
    }
    for (const spec of next.values()) {
      if (this.#connections.has(spec.name)) continue;
      added.push(spec.name);
      this.#catalog.declareServer(spec.name, spec.description ?? '');
      const connection = this.#createConnection(spec);
      this.#connections.set(spec.name, connection);
      fresh.push(connection);
    }
    return { added, removed, changed, started: this.#boot(fresh) };
  }

  /**
   * Stops `name` and starts it again with a fresh connection (its failure count and cool-down reset):
   * what a person does to a server that is stuck or down. Calls in flight on it end with
   * DOWNSTREAM_ERROR. Resolves with its state after the new start, or undefined for an unknown name.
   */
  async restart(name: string): Promise<ServerStatus | undefined> {
    const previous = this.#connections.get(name);
    if (!previous) return undefined;
    const connection = this.#createConnection(previous.spec);
    this.#connections.set(name, connection);
    this.#feed.restarted(name);
    const instances = [...(this.#instances.get(name)?.values() ?? [])];
    this.#instances.delete(name);
    await Promise.all([previous, ...instances].map((stopped) => this.#retire(stopped, { drain: false })));
    await connection.ensure().catch(() => undefined);
    return this.status().find((status) => status.name === name);
  }

  /** Every held-back tool of `server`: pinned definitions that changed, and tools waiting for review. */
  heldOf(server: string): HeldTool[] {
    return this.#feed.heldOf(server);
  }

  /** Reads the trust files again now (after `automcp.trust_server`), rather than on the next sweep. */
  refreshTrust(): Promise<void> {
    return this.#refreshTrust();
  }

  #forget(name: string): void {
    // Each caller's own process of the server goes with it; a caller's next call makes a new one.
    for (const instance of this.#instances.get(name)?.values() ?? []) void this.#retire(instance, { drain: true });
    this.#instances.delete(name);
    this.#feed.forget(name);
  }

  /** Stops a connection that is no longer routed to, after its calls in flight when `drain`. */
  #retire(connection: DownstreamConnection, { drain }: { drain: boolean }): Promise<void> {
    const deadline = Date.now() + (connection.spec.timeoutMs ?? RETIRE_DRAIN_MS);
    const stop = (async () => {
      // Calls in flight finish on the configuration they started with.
      while (drain && !this.#closing && connection.inFlight > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await connection.close().catch(() => undefined);
    })();
    this.#retiring.add(stop);
    void stop.finally(() => this.#retiring.delete(stop));
    return stop;
  }

  /**
   * Starts again, in the background, every server whose failed start has waited out its backoff, so a
   * server that failed once (a transient error at boot) comes back into the catalog without a restart.
   */
  retryFailed(): void {
    for (const connection of this.#connections.values()) {
      if (connection.retryDue()) void connection.ensure().catch(() => undefined);
    }
  }

  /**
   * The periodic sweep: stops stdio servers idle past their `idleTimeoutSeconds`, restarts `lazy:
   * false` servers that dropped, retries failed ones, and re-filters pinned servers whose trust
   * changed on disk. Resolves when the stops it began and the look at the trust files are done.
   */
  async tick(): Promise<void> {
    const stops: Promise<unknown>[] = [this.#refreshTrust()];
    for (const connection of this.#all()) {
      const { spec } = connection;
      if (spec.lazy === false) {
        if (connection.state === 'idle' || connection.retryDue({ dropped: true }))
          void connection.ensure().catch(() => undefined);
        continue;
      }
      const idleSeconds = spec.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS;
      // Only stdio servers cost a process; a remote server's idle connection is left alone.
      if (spec.command !== undefined && idleSeconds > 0 && connection.state === 'up' && connection.inFlight === 0) {
        if (connection.idleMs() >= idleSeconds * 1000) stops.push(connection.stopIdle());
      }
    }
    this.retryFailed();
    await Promise.all(stops);
  }

  /**
   * Filters the lists of pinned servers again when their trusted hashes changed since (the sweep saw
   * `automcp trust` run in another process), so accepted tools come back without a restart. Memory
   * only: it runs on every call, and the disk is read by the sweep.
   */
  syncTrust(): void {
    this.#feed.syncTrust(this.#connections.values());
  }

  /** Reads the trust files of pinned and reviewed servers again where they changed on disk, then re-filters. */
  async #refreshTrust(): Promise<void> {
    await this.#feed.reloadTrust(this.#connections.values());
    this.syncTrust();
  }

  /** The connection for `server`, if configured. */
  connection(server: string): DownstreamConnection | undefined {
    return this.#connections.get(server);
  }

  /** The tool held back under this qualified name (pinned and changed, or waiting for review), if any. */
  heldBack(name: string): HeldTool | undefined {
    const held = this.#feed.heldBack(name);
    // A server a reload removed holds nothing back: its names are simply unknown now.
    return held && this.#connections.has(held.tool.server) ? held : undefined;
  }

  /** Forwards a call to `server`. Not async itself: the connection's promise is handed on as it is. */
  call(server: string, options: CallOptions): Promise<CallToolResult> {
    const connection = this.connectionFor(server, options.relay?.peer.caller);
    if (!connection) {
      return Promise.reject(
        new GatewayError('DOWNSTREAM_UNAVAILABLE', `server "${server}" is not configured`, { data: { server } }),
      );
    }
    return connection.call(options);
  }

  /** Forwards `notifications/roots/list_changed` of `peer` to every server process it has used. */
  rootsChanged(peer: UpstreamPeer): void {
    for (const connection of this.#all()) void connection.rootsChanged(peer);
  }

  /** Each server's state, in configuration order. */
  status(): ServerStatus[] {
    return [...this.#connections.values()].map((connection) => {
      const { fromCache, ...catalog } = this.#feed.statusOf(connection.spec);
      const cached = connection.state === 'idle' && fromCache;
      const downUntil = connection.downUntil;
      return {
        name: connection.name,
        state: cached ? 'cached' : connection.state,
        ...(connection.pid !== undefined ? { pid: connection.pid } : {}),
        ...catalog,
        ...(downUntil !== undefined ? { downUntil: new Date(downUntil).toISOString() } : {}),
        ...(connection.lastError !== undefined ? { lastError: connection.lastError } : {}),
      };
    });
  }

  /** Stops every server, and lets trust writes in progress finish. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled([...this.#all().map((connection) => connection.close()), ...[...this.#retiring]]);
    await this.#feed.settled();
  }
}
