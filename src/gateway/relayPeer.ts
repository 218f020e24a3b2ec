/**
 * The upstream side of the relay (downstream/relay.ts): one upstream connection as the downstream
 * servers' requests see it. Requests go out through the SDK `Server` with the upstream tools/call as
 * their related request, so Streamable HTTP puts them on that call's stream; log messages pass the
 * level the client chose with `logging/setLevel`; resource URIs that tools returned to this connection
 * are remembered with their server, so `resources/read` can go back to it and nowhere else.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  ResultSchema,
  type CallToolResult,
  type ClientCapabilities,
  type LoggingLevel,
  type LoggingMessageNotification,
  type RequestId,
  type Root,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { UpstreamPeer } from '../downstream/relay.js';
import type { Logger } from '../logging/logger.js';

/** RFC 5424 severities in the order MCP uses them, least severe first. */
const LEVELS: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** How many resource URIs one connection remembers; the oldest are forgotten first. */
const MAX_LINKS = 2_000;

/**
 * The SDK's timeout of a relayed request: none to speak of. The downstream server that asked keeps its
 * own timeout and cancels its request when it gives up, which cancels the relayed one.
 */
const RELAY_TIMEOUT_MS = 2 ** 31 - 1;

/** One upstream connection: its server, its caller and what it may read. */
export class GatewayPeer implements UpstreamPeer {
  readonly caller: string;
  readonly pinnedRoots: readonly Root[] | undefined;
  readonly #server: Server;
  readonly #logger: Logger;
  /** The level set with logging/setLevel; everything passes until the client sets one. */
  #level: LoggingLevel | undefined;
  /** Resource URI → the server whose tool returned it to this connection. */
  readonly #links = new Map<string, string>();

  constructor({ server, caller, roots, logger }: { server: Server; caller: string; roots?: readonly Root[]; logger: Logger }) {
    this.#server = server;
    this.caller = caller;
    this.pinnedRoots = roots;
    this.#logger = logger;
  }

  get closed(): boolean {
    return this.#server.transport === undefined;
  }

  capabilities(): ClientCapabilities | undefined {
    return this.#server.getClientCapabilities();
  }

  /** Sets the lowest level of log messages this client gets. */
  setLevel(level: LoggingLevel): void {
    this.#level = level;
  }

  request(request: ServerRequest, relatedRequestId: RequestId | undefined, signal: AbortSignal): Promise<unknown> {
    // The answer goes back unchanged: the downstream client checks it against the method's schema.
    return this.#server.request(request, ResultSchema, {
      signal,
      timeout: RELAY_TIMEOUT_MS,
      ...(relatedRequestId !== undefined ? { relatedRequestId } : {}),
    });
  }

  notify(notification: ServerNotification, relatedRequestId: RequestId | undefined): void {
    this.#server
      .notification(notification, relatedRequestId !== undefined ? { relatedRequestId } : undefined)
      .catch((error: unknown) =>
        this.#logger.debug({ err: error, method: notification.method }, 'could not relay a notification'),
      );
  }

  log(params: LoggingMessageNotification['params'], relatedRequestId: RequestId | undefined): void {
    if (this.#level !== undefined && LEVELS.indexOf(params.level) < LEVELS.indexOf(this.#level)) return;
    this.notify({ method: 'notifications/message', params }, relatedRequestId);
  }

  sawResult(server: string, result: CallToolResult): void {
    for (const block of result.content ?? []) {
      const uri = block.type === 'resource_link' ? block.uri : block.type === 'resource' ? block.resource.uri : undefined;
      if (uri === undefined) continue;
      this.#links.delete(uri);
      this.#links.set(uri, server);
      if (this.#links.size > MAX_LINKS) this.#links.delete(this.#links.keys().next().value as string);
    }
  }

  /** The server whose tool returned `uri` to this connection, if one did. */
  serverOf(uri: string): string | undefined {
    return this.#links.get(uri);
  }
}
