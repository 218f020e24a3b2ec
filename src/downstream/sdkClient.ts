/**
 * The SDK client of one server process: how it is built and connected (Streamable HTTP first, then the
 * SSE transport for remote servers that predate it), and how it is closed. What a connect or a drop
 * means for the server — its lifecycle, backoff and sign-in — stays in connection.ts; this module only
 * reports them through the hooks it is given, so the SDK wiring reads apart from the state it feeds.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { signInRequired } from '../auth/errors.js';
import type { ServerSpec } from '../config/load.js';
import type { Logger } from '../logging/logger.js';
import { VERSION } from '../version.js';
import { messageOf } from './callErrors.js';
import { RELAYED_CAPABILITIES, type DownstreamRelay } from './relay.js';
import { ToolCallLane } from './toolCalls.js';
import type { TransportFactory, TransportKind } from './transport.js';

/** A connected client, with what the connection keeps beside it. */
export interface ConnectedClient {
  client: Client;
  /** The child's pid for stdio servers. */
  pid: number | undefined;
  /** The short tools/call route (see toolCalls.ts); none for HTTP servers, whose SDK transport has no use for it. */
  lane: ToolCallLane | undefined;
}

/** Options of {@link connectClient}. */
export interface ConnectOptions {
  spec: ServerSpec;
  transports: TransportFactory;
  relay: DownstreamRelay;
  logger: Logger;
  /** How long the handshake may take. */
  timeoutMs: number;
  /** Told each transport before its handshake, so a stop during the start can close it. */
  onTransport: (transport: Transport) => void;
  /** False once a stop took the start over: the SSE fallback is then not tried. */
  stillStarting: () => boolean;
  /** Told when `client`'s connection closed, on purpose or not; the connection decides whether it counts. */
  onClose: (client: Client) => void;
  /** Re-lists `client`'s tools after `notifications/tools/list_changed`. */
  relist: (client: Client) => Promise<unknown>;
}

/**
 * Connects to the server. A remote server whose Streamable HTTP connect fails is tried once over SSE,
 * unless it wants sign-in (it wants it over SSE too) or a stop began meanwhile.
 */
export async function connectClient(options: ConnectOptions): Promise<ConnectedClient> {
  try {
    return await connectOnce(options, 'primary');
  } catch (error) {
    if (options.spec.url === undefined || !options.stillStarting() || signInRequired(error)) throw error;
    options.logger.info({ err: messageOf(error) }, 'Streamable HTTP failed; trying the SSE transport');
    return connectOnce(options, 'sse-fallback');
  }
}

async function connectOnce(options: ConnectOptions, kind: TransportKind): Promise<ConnectedClient> {
  const { spec, logger } = options;
  const transport = options.transports(spec, kind);
  options.onTransport(transport);
  // Declared whether or not a client that can honour them is connected yet (see relay.ts).
  const client = new Client({ name: 'automcp', version: VERSION }, { capabilities: RELAYED_CAPABILITIES });
  options.relay.install(client);
  client.onerror = (error) => {
    // The SDK reports unparseable stdout lines here and carries on; say which server sent them.
    const garbage = error instanceof SyntaxError || (error as { name?: string }).name === 'ZodError';
    logger.warn(
      { err: messageOf(error) },
      garbage ? 'server wrote something to stdout that is not JSON-RPC (ignored)' : 'transport error',
    );
  };
  client.onclose = () => options.onClose(client);
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    logger.info('tool list changed; re-listing');
    await options.relist(client).catch((error: unknown) => {
      logger.warn({ err: messageOf(error) }, 'could not re-list tools after list_changed');
    });
  });
  try {
    await client.connect(transport, { timeout: options.timeoutMs });
  } catch (error) {
    // A failed handshake leaves the child running; end it before trying anything else.
    await transport.close().catch(() => undefined);
    throw error;
  }
  return {
    client,
    pid: (transport as { pid?: number | null }).pid ?? undefined,
    lane: spec.url === undefined ? new ToolCallLane(transport) : undefined,
  };
}

/**
 * Closes a client and its transport, ignoring failures: the server is being let go either way. The
 * transport is closed too because a server still starting has no client yet, and its process must not
 * outlive the connection.
 */
export async function closeQuietly(client: Client | undefined, transport: Transport | undefined): Promise<void> {
  await client?.close().catch(() => undefined);
  await transport?.close().catch(() => undefined);
}
