/**
 * The upstream MCP server: exactly two tools, and the one place where errors become results. A
 * GatewayError is something the caller can act on, so it returns as an `isError` tool result with a
 * JSON payload; anything else is a bug or a protocol problem and travels as a JSON-RPC error.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  RootsListChangedNotificationSchema,
  SetLevelRequestSchema,
  type CallToolResult,
  type Implementation,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type { ServerOptions } from '@modelcontextprotocol/sdk/server/index.js';
import type { DownstreamRegistry } from '../downstream/registry.js';
import { isGatewayError, type GatewayError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { VERSION } from '../version.js';
import type { CallerContext, GatewayCore } from './core.js';
import { ResponseDelivery } from './delivery.js';
import { routeToolCalls, type ToolCallHandler } from './dispatch.js';
import { GatewayPeer } from './relayPeer.js';
import { selectionResult, upstreamTools } from './selectionOutput.js';
import { AUTOMATIC_EVAL, AUTOMATIC_MCP } from './tools.js';

/** The package version, reported as serverInfo (re-exported for the command line). */
export { VERSION };

/**
 * Builds the MCP server for one upstream connection of `context.caller`. This uses the SDK's low-level
 * `Server` rather than `McpServer` on purpose: the two tools' JSON Schemas are stated exactly as the
 * contract gives them, and invalid input must come back as our INVALID_INPUT result, not as the SDK's
 * own validation error.
 */
export function createGatewayServer({
  core,
  context,
  logger,
  registry,
}: {
  core: GatewayCore;
  context: CallerContext;
  logger: Logger;
  /** For resources/read of links tools returned, and roots changes; without it neither is relayed. */
  registry?: DownstreamRegistry;
}): Server {
  // The profile's output form decides whether automatic_mcp declares an outputSchema; a connection's
  // profile is fixed, so its list never changes.
  const form = context.profile.selection.output;
  const tools = upstreamTools(form);
  const callTool: ToolCallHandler = async ({ name, arguments: args }, extra) => {
    // One snapshot per call: a reload that swaps the caller's profile mid-call affects the next call only.
    const caller: CallerContext = {
      caller: context.caller,
      profile: context.profile,
      ...(context.connectionId !== undefined ? { connectionId: context.connectionId } : {}),
    };
    try {
      if (name === AUTOMATIC_MCP) {
        const output = await core.automaticMcp(args, caller, {
          signal: extra.signal,
          afterSend: (update) => server.afterSend(extra.requestId, extra.signal, update),
        });
        return selectionResult(output, form);
      }
      if (name === AUTOMATIC_EVAL) {
        return await core.automaticEval(args, caller, {
          signal: extra.signal,
          ...(extra.sendProgress ? { onProgress: extra.sendProgress } : {}),
          relay: { peer, requestId: extra.requestId },
        });
      }
    } catch (error) {
      if (isGatewayError(error)) return toErrorResult(error);
      // A cancelled request gets no response at all; there is nothing to report.
      if (extra.signal.aborted) throw error;
      logger.error({ err: error, tool: name }, 'unexpected failure');
      throw error;
    }
    throw new McpError(ErrorCode.InvalidParams, `unknown tool "${name}": this server has ${AUTOMATIC_MCP} and ${AUTOMATIC_EVAL}`);
  };
  const server = new GatewayServer(
    { name: 'automcp', version: VERSION },
    {
      // logging: downstream servers' log messages; resources: read-only, for links tools returned.
      capabilities: { tools: { listChanged: false }, logging: {}, resources: {} },
      instructions:
        'automcp fronts many MCP servers. Call automatic_mcp with your task to get the few tools it needs, then automatic_eval to run one.',
    },
    callTool,
  );
  const peer = new GatewayPeer({
    server,
    caller: context.caller,
    ...(context.profile.roots ? { roots: context.profile.roots } : {}),
    logger,
  });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: tools.map((tool) => ({ ...tool })) }));
  serveRelay(server, peer, context, registry);
  // The SDK's route, for tools/call requests the short route leaves to it (see dispatch.ts).
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const token = request.params._meta?.progressToken;
    return callTool(request.params, {
      requestId: extra.requestId,
      signal: extra.signal,
      ...(token !== undefined
        ? {
            sendProgress: (progress) => {
              void extra
                .sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken: token } })
                .catch(() => undefined);
            },
          }
        : {}),
    });
  });
  return server;
}

/**
 * What the relay adds to the upstream surface: the client's log level, its roots changes, and
 * `resources/read` of URIs that tools returned to this connection. The resource lists stay empty:
 * the surface is two tools and no catalog.
 */
function serveRelay(server: Server, peer: GatewayPeer, context: CallerContext, registry: DownstreamRegistry | undefined): void {
  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    peer.setLevel(request.params.level);
    return {};
  });
  server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
    // Pinned roots never change with the client's.
    if (!peer.pinnedRoots) registry?.rootsChanged(peer);
  });
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: [] }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: [] }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    const { uri } = request.params;
    const name = peer.serverOf(uri);
    const connection = name === undefined ? undefined : registry?.connectionFor(name, peer.caller);
    if (!connection) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `automcp reads only resources that a tool returned to this connection, and no tool returned "${uri}"; call the tool that returns it first`,
      );
    }
    try {
      return await connection.readResource(uri, peer, context.profile.eval.timeoutMs, extra.signal);
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      throw new McpError(ErrorCode.InternalError, error.message, error.toPayload());
    }
  });
}

/** The SDK server, with plain tools/call requests answered on a shorter route (see dispatch.ts). */
class GatewayServer extends Server {
  readonly #callTool: ToolCallHandler;
  /** Work waiting for a response to be sent (see delivery.ts). */
  #delivery: ResponseDelivery | undefined;

  constructor(info: Implementation, options: ServerOptions, callTool: ToolCallHandler) {
    super(info, options);
    this.#callTool = callTool;
  }

  override async connect(transport: Transport): Promise<void> {
    // Someone else listening on the transport first would be skipped by the short route: keep the SDK's.
    const earlier = transport.onmessage;
    await super.connect(transport);
    this.#delivery = new ResponseDelivery(transport);
    if (!earlier) routeToolCalls(transport, this.#callTool, (error) => this.onerror?.(error));
  }

  /** Runs `task` once the response to request `id` is handed to the transport; never, if it is cancelled first. */
  afterSend(id: RequestId, signal: AbortSignal, task: () => void): void {
    if (this.#delivery) this.#delivery.afterSend(id, signal, task);
    else task();
  }
}

/** The `isError` result for a gateway error: one text block of JSON. */
export function toErrorResult(error: GatewayError): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(error.toPayload()) }] };
}
