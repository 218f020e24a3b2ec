/**
 * All downstream servers: starts them, keeps the catalog in step with their tool lists, and routes
 * calls by server name. One server that fails to start or dies never stops the others.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ServerSpec } from '../config/load.js';
import type { Catalog } from '../catalog/catalog.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { DownstreamConnection, type CallOptions, type ConnectionState } from './connection.js';
import type { TransportFactory } from './transport.js';

/** One server's state for `check` and status output. */
export interface ServerStatus {
  name: string;
  state: ConnectionState;
  pid?: number;
  tools: number;
  lastError?: string;
}

/** The set of downstream connections. */
export class DownstreamRegistry {
  readonly #connections = new Map<string, DownstreamConnection>();
  readonly #catalog: Catalog;
  readonly #logger: Logger;

  constructor(options: {
    servers: readonly ServerSpec[];
    catalog: Catalog;
    logger: Logger;
    transports: TransportFactory;
    startTimeoutMs?: number;
    /** Milliseconds now, for retry backoff. */
    now?: () => number;
  }) {
    this.#catalog = options.catalog;
    this.#logger = options.logger;
    for (const spec of options.servers) {
      if (spec.enabled === false) continue;
      this.#catalog.declareServer(spec.name, spec.description ?? '');
      const connection = new DownstreamConnection({
        spec,
        logger: options.logger,
        transports: options.transports,
        ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
        ...(options.now ? { now: options.now } : {}),
        onTools: (tools) => {
          const change = this.#catalog.setServerTools(spec.name, spec.description ?? '', tools);
          for (const changed of change.changed) {
            this.#logger.warn(
              { server: spec.name, tool: changed.name, before: changed.before, after: changed.after },
              'tool definition changed',
            );
          }
        },
      });
      this.#connections.set(spec.name, connection);
    }
  }

  /** Starts every server at once; failures are logged and reported, never thrown. */
  async start(): Promise<ServerStatus[]> {
    await Promise.allSettled([...this.#connections.values()].map((connection) => connection.ensure()));
    return this.status();
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

  /** The connection for `server`, if configured. */
  connection(server: string): DownstreamConnection | undefined {
    return this.#connections.get(server);
  }

  /** Forwards a call to `server`. */
  async call(server: string, options: CallOptions): Promise<CallToolResult> {
    const connection = this.#connections.get(server);
    if (!connection) {
      throw new GatewayError('DOWNSTREAM_UNAVAILABLE', `server "${server}" is not configured`, { data: { server } });
    }
    return connection.call(options);
  }

  /** Each server's state, in configuration order. */
  status(): ServerStatus[] {
    return [...this.#connections.values()].map((connection) => ({
      name: connection.name,
      state: connection.state,
      ...(connection.pid !== undefined ? { pid: connection.pid } : {}),
      tools: this.#catalog.server(connection.name)?.tools.length ?? 0,
      ...(connection.lastError !== undefined ? { lastError: connection.lastError } : {}),
    }));
  }

  /** Stops every server. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#connections.values()].map((connection) => connection.close()));
  }
}
