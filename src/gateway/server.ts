/**
 * The upstream MCP server: exactly two tools, and the one place where errors become results. A
 * GatewayError is something the caller can act on, so it returns as an `isError` tool result with a
 * JSON payload; anything else is a bug or a protocol problem and travels as a JSON-RPC error.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type { CancelSignal } from '../downstream/connection.js';
import { isGatewayError, type GatewayError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { CallerContext, GatewayCore } from './core.js';
import { UpstreamCancellations } from './cancellation.js';
import { routeRequestsDirectly } from './dispatch.js';
import { AUTOMATIC_EVAL, AUTOMATIC_MCP, UPSTREAM_TOOLS } from './tools.js';

/** The package version, reported as serverInfo. */
export const VERSION = '0.1.0';

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
}: {
  core: GatewayCore;
  context: CallerContext;
  logger: Logger;
}): Server {
  const server = new GatewayServer(
    { name: 'automcp', version: VERSION },
    {
      capabilities: { tools: { listChanged: false } },
      instructions:
        'automcp fronts many MCP servers. Call automatic_mcp with your task to get the few tools it needs, then automatic_eval to run one.',
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: UPSTREAM_TOOLS.map((tool) => ({ ...tool })) }));

  // Registered on the base Protocol, past Server's tools/call wrapper: that wrapper parses the request
  // a second time (Protocol has just parsed it) and re-validates every result against the SDK's result
  // schema. Every result here is built by this gateway or was validated by the downstream client's
  // callTool, so on the automatic_eval path both checks were pure per-call cost.
  Protocol.prototype.setRequestHandler.call(server, CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name, arguments: args } = request.params;
    // One snapshot per call: a reload that swaps the caller's profile mid-call affects the next call only.
    const caller: CallerContext = { caller: context.caller, profile: context.profile, connectionId: context.connectionId };
    try {
      if (name === AUTOMATIC_MCP) {
        const output = await core.automaticMcp(args, caller);
        return { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
      }
      if (name === AUTOMATIC_EVAL) {
        const progressToken = request.params._meta?.progressToken;
        const signal = server.callSignal(extra.requestId, extra.signal);
        try {
          return await core.automaticEval(args, caller, {
            signal,
            ...(progressToken !== undefined
              ? {
                  onProgress: (progress) => {
                    void extra
                      .sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken } })
                      .catch(() => undefined);
                  },
                }
              : {}),
          });
        } finally {
          server.releaseSignal(extra.requestId, signal);
        }
      }
    } catch (error) {
      if (isGatewayError(error)) return toErrorResult(error);
      // A cancelled request gets no response at all; there is nothing to report.
      if (extra.signal.aborted) throw error;
      logger.error({ err: error, tool: name }, 'unexpected failure');
      throw error;
    }
    throw new McpError(ErrorCode.InvalidParams, `unknown tool "${name}": this server has ${AUTOMATIC_MCP} and ${AUTOMATIC_EVAL}`);
  });

  return server;
}

/** The SDK server, with requests routed past the SDK's message classification (see dispatch.ts). */
class GatewayServer extends Server {
  /** Set when this connection's cancellations are watched on its transport (see cancellation.ts). */
  #cancellations: UpstreamCancellations | undefined;

  override async connect(transport: Transport): Promise<void> {
    // Someone else listening on the transport first would be skipped by the shortcut: keep the SDK's route.
    const earlier = transport.onmessage;
    await super.connect(transport);
    if (earlier || !routeRequestsDirectly(this, transport)) return;
    this.#cancellations = new UpstreamCancellations();
    this.#cancellations.watch(transport);
  }

  /**
   * The signal that cancels the downstream call of upstream request `id`. Without a watched transport
   * it is the upstream request's own signal, with the SDK's listener per call.
   */
  callSignal(id: RequestId, upstream: AbortSignal): CancelSignal {
    return this.#cancellations ? this.#cancellations.begin(id, upstream) : upstream;
  }

  /** The call of upstream request `id` is over. */
  releaseSignal(id: RequestId, signal: CancelSignal): void {
    this.#cancellations?.end(id, signal);
  }
}

/** The `isError` result for a gateway error: one text block of JSON. */
export function toErrorResult(error: GatewayError): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(error.toPayload()) }] };
}
