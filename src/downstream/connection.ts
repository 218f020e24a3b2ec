/**
 * One downstream server: an SDK `Client`, its transport and its lifecycle. The connection starts on
 * demand, lists tools (following pagination), re-lists on `notifications/tools/list_changed`, and after
 * the server exits or breaks its connection the next call simply starts it again.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ErrorCode,
  McpError,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Progress,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ServerSpec } from '../config/load.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { TransportFactory } from './transport.js';

/** Where a connection is in its life. */
export type ConnectionState = 'idle' | 'starting' | 'up' | 'closed' | 'failed';

/** First wait before a failed start is retried in the background; it doubles up to the maximum. */
export const RETRY_BASE_MS = 2_000;
export const RETRY_MAX_MS = 60_000;

/** Default wait for a server to start and list its tools. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;

/** Options of one forwarded call. */
export interface CallOptions {
  tool: string;
  arguments: Record<string, unknown>;
  timeoutMs: number;
  /** The upstream request's signal: cancelling it cancels the downstream call. */
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

/** A downstream server and its SDK client. */
export class DownstreamConnection {
  readonly spec: ServerSpec;
  readonly #logger: Logger;
  readonly #transports: TransportFactory;
  readonly #onTools: (tools: Tool[]) => void;
  readonly #startTimeoutMs: number;
  #client: Client | undefined;
  /** The transport of the current or in-flight connection, so a stop can end a start half-way. */
  #transport: Transport | undefined;
  #starting: Promise<Client> | undefined;
  #state: ConnectionState = 'idle';
  #pid: number | undefined;
  #lastError: string | undefined;
  #closing = false;
  /** Numbers tool-list requests so a late answer to an older one never overwrites a newer list. */
  #failures = 0;
  #failedAt = 0;
  readonly #now: () => number;
  #listRequests = 0;
  #listApplied = 0;

  constructor(options: {
    spec: ServerSpec;
    logger: Logger;
    transports: TransportFactory;
    onTools: (tools: Tool[]) => void;
    startTimeoutMs?: number;
    /** Milliseconds now, for retry backoff. */
    now?: () => number;
  }) {
    this.#now = options.now ?? Date.now;
    this.spec = options.spec;
    this.#logger = options.logger.child({ server: options.spec.name });
    this.#transports = options.transports;
    this.#onTools = options.onTools;
    this.#startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  }

  /** The server's configured name. */
  get name(): string {
    return this.spec.name;
  }

  /** Where the connection is in its life. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The child's pid for stdio servers while up. */
  get pid(): number | undefined {
    return this.#pid;
  }

  /** Why the last start failed or the connection dropped; cleared by a successful start. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Returns a connected client, starting the server if it is not up. Concurrent callers share one start. */
  async ensure(): Promise<Client> {
    if (this.#client && this.#state === 'up') return this.#client;
    // A start racing a stop would leave a child that nobody closes.
    if (this.#closing) throw new Error(`server "${this.name}" is stopping`);
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  /**
   * Re-reads the tool list (all pages) and hands it to the catalog, unless a list requested later has
   * already been applied (two list_changed notifications in a row can be answered out of order).
   */
  async refreshTools(client?: Client): Promise<Tool[]> {
    const active = client ?? (await this.ensure());
    const request = ++this.#listRequests;
    const tools: Tool[] = [];
    let cursor: string | undefined;
    const seen = new Set<string>();
    do {
      const page = await active.listTools(cursor ? { cursor } : {}, { timeout: this.#startTimeoutMs });
      tools.push(...page.tools);
      cursor = page.nextCursor;
      // A server that hands back a cursor it already gave would loop forever.
      if (cursor !== undefined && seen.has(cursor)) break;
      if (cursor !== undefined) seen.add(cursor);
    } while (cursor);
    if (request > this.#listApplied) {
      this.#listApplied = request;
      this.#onTools(tools);
    }
    return tools;
  }

  /**
   * True when the server failed to start and its backoff has run out: a background retry is due. The
   * wait doubles with each failure ({@link RETRY_BASE_MS} up to {@link RETRY_MAX_MS}).
   */
  retryDue(): boolean {
    if (this.#state !== 'failed') return false;
    const wait = Math.min(RETRY_BASE_MS * 2 ** (this.#failures - 1), RETRY_MAX_MS);
    return this.#now() - this.#failedAt >= wait;
  }

  /** Like {@link ensure}, but a failure is a DOWNSTREAM_UNAVAILABLE {@link GatewayError} naming the server. */
  async ensureAvailable(): Promise<Client> {
    try {
      return await this.ensure();
    } catch (error) {
      throw new GatewayError(
        'DOWNSTREAM_UNAVAILABLE',
        `server "${this.name}" could not be started or reached: ${messageOf(error)}`,
        {
          data: { server: this.name },
          cause: error,
        },
      );
    }
  }

  /** Forwards a tools/call; downstream failures become {@link GatewayError}s that name the server. */
  async call(options: CallOptions): Promise<CallToolResult> {
    const client = await this.ensureAvailable();
    try {
      const result = await client.callTool({ name: options.tool, arguments: options.arguments }, undefined, {
        timeout: options.timeoutMs,
        // Long calls that report progress stay alive; silence still times out.
        resetTimeoutOnProgress: true,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onprogress: options.onProgress } : {}),
      });
      return result as CallToolResult;
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw this.#mapCallError(error, options.timeoutMs);
    }
  }

  /** Stops the server; a later {@link ensure} starts it again. */
  async close(): Promise<void> {
    this.#closing = true;
    const client = this.#client;
    const transport = this.#transport;
    this.#client = undefined;
    this.#transport = undefined;
    // Close the transport itself, not only the client: a server still starting (or one that never
    // answers the handshake) has no client yet, and its process must not outlive the gateway.
    await client?.close().catch(() => undefined);
    await transport?.close().catch(() => undefined);
    await this.#starting?.catch(() => undefined);
    this.#state = 'closed';
    this.#closing = false;
  }

  async #start(): Promise<Client> {
    this.#state = 'starting';
    try {
      const client = await this.#connect('primary').catch(async (error: unknown) => {
        if (this.spec.url === undefined || this.#closing) throw error;
        this.#logger.info({ err: messageOf(error) }, 'Streamable HTTP failed; trying the SSE transport');
        return this.#connect('sse-fallback');
      });
      this.#client = client;
      this.#state = 'up';
      this.#lastError = undefined;
      this.#failures = 0;
      await this.refreshTools(client);
      this.#logger.info({ pid: this.#pid }, 'server up');
      return client;
    } catch (error) {
      const client = this.#client;
      const transport = this.#transport;
      this.#client = undefined;
      this.#transport = undefined;
      await client?.close().catch(() => undefined);
      await transport?.close().catch(() => undefined);
      if (this.#closing) throw error;
      this.#state = 'failed';
      this.#failures += 1;
      this.#failedAt = this.#now();
      this.#lastError = messageOf(error);
      this.#logger.warn({ err: this.#lastError }, 'server failed to start');
      throw error;
    }
  }

  async #connect(kind: 'primary' | 'sse-fallback'): Promise<Client> {
    const transport = this.#transports(this.spec, kind);
    this.#transport = transport;
    const client = new Client({ name: 'automcp', version: '0.1.0' }, { capabilities: {} });
    client.onerror = (error) => {
      // The SDK reports unparseable stdout lines here and carries on; say which server sent them.
      const garbage = error instanceof SyntaxError || (error as { name?: string }).name === 'ZodError';
      this.#logger.warn(
        { err: messageOf(error) },
        garbage ? 'server wrote something to stdout that is not JSON-RPC (ignored)' : 'transport error',
      );
    };
    client.onclose = () => {
      if (this.#client !== client) return;
      this.#client = undefined;
      this.#transport = undefined;
      this.#pid = undefined;
      if (!this.#closing) {
        this.#state = 'closed';
        this.#lastError = 'connection closed';
        this.#logger.warn('server connection closed; the next call restarts it');
      }
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      this.#logger.info('tool list changed; re-listing');
      await this.refreshTools(client).catch((error: unknown) => {
        this.#logger.warn({ err: messageOf(error) }, 'could not re-list tools after list_changed');
      });
    });
    try {
      await client.connect(transport, { timeout: this.#startTimeoutMs });
    } catch (error) {
      // A failed handshake leaves the child running; end it before trying anything else.
      await transport.close().catch(() => undefined);
      throw error;
    }
    this.#pid = (transport as { pid?: number | null }).pid ?? undefined;
    return client;
  }

  #mapCallError(error: unknown, timeoutMs: number): GatewayError {
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
      return new GatewayError(
        'DOWNSTREAM_TIMEOUT',
        `server "${this.name}" gave no answer within ${timeoutMs} ms; the outcome is unknown (the call may still have taken effect)`,
        { data: { server: this.name, timeoutMs }, cause: error },
      );
    }
    if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) {
      return new GatewayError(
        'DOWNSTREAM_ERROR',
        `server "${this.name}" closed the connection during the call (it may have crashed); the next call restarts it`,
        { data: { server: this.name }, cause: error },
      );
    }
    const code = error instanceof McpError ? { downstreamCode: error.code } : {};
    return new GatewayError('DOWNSTREAM_ERROR', `server "${this.name}" failed the call: ${messageOf(error)}`, {
      data: { server: this.name, ...code },
      cause: error,
    });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
