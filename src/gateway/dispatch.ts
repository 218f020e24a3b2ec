/**
 * The short route of the upstream connection's tools/call requests. The SDK's `Protocol` classifies
 * every incoming message by trying its zod schemas in turn (each request first fails two response
 * schemas), makes an AbortController and a dozen closures per request, and `Server`'s tools/call
 * wrapper parses the request again and re-validates the result. On the `automatic_eval` path, where
 * the gateway only forwards a call, that was most of what automcp added over a bare relay.
 *
 * So a tools/call request whose envelope is plainly valid (see {@link isPlainToolCall}) is answered
 * here, on the public `Transport` interface: handler, cancellation (notifications/cancelled naming it,
 * or the connection closing), progress notifications and the response or JSON-RPC error, as the SDK
 * would send them. Every other message, and any tools/call with more in its envelope, takes the SDK's
 * own route to the same handler.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  type CallToolRequest,
  type CallToolResult,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type Progress,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';

/** What a tools/call handler gets besides the request's params, on either route. */
export interface ToolCallExtra {
  requestId: RequestId;
  /** Aborted when the caller cancels the request or the connection closes. */
  signal: AbortSignal;
  /** Present when the caller asked for progress (a progressToken in `_meta`). */
  sendProgress?: (progress: Progress) => void;
}

/** Answers one tools/call. */
export type ToolCallHandler = (params: CallToolRequest['params'], extra: ToolCallExtra) => Promise<CallToolResult>;

/**
 * Answers plain tools/call requests arriving on `transport` with `handle`. Call it right after the
 * SDK server connected to `transport`: what it does not take goes to the SDK's route as before.
 */
export function routeToolCalls(transport: Transport, handle: ToolCallHandler, onError: (error: Error) => void): void {
  const sdkRoute = transport.onmessage;
  const sdkClose = transport.onclose;
  /** The requests this route is answering, by id: what cancellation and closing abort. */
  const inFlight = new Map<RequestId, AbortController>();

  const answer = (request: PlainToolCall): void => {
    const { id, params } = request;
    const controller = new AbortController();
    inFlight.set(id, controller);
    const token = params._meta?.progressToken;
    const extra: ToolCallExtra = { requestId: id, signal: controller.signal };
    if (token !== undefined) {
      extra.sendProgress = (progress) => {
        if (controller.signal.aborted) return;
        transport
          .send(
            { jsonrpc: '2.0', method: 'notifications/progress', params: { ...progress, progressToken: token } },
            { relatedRequestId: id },
          )
          .catch((error: unknown) => onError(new Error(`could not send a progress notification: ${String(error)}`)));
      };
    }
    // The handler starts in a microtask, as on the SDK's route: a cancellation read in the same chunk
    // as its request aborts the signal before the handler forwards anything.
    Promise.resolve()
      .then(() => handle(params, extra))
      .then(
        (result): JSONRPCMessage => ({ jsonrpc: '2.0', id, result }),
        (error: unknown): JSONRPCMessage => errorResponse(id, error),
      )
      // A cancelled request gets no response at all, as the SDK does.
      .then((response) => (controller.signal.aborted ? undefined : transport.send(response)))
      .catch((error: unknown) => onError(new Error(`could not send a response: ${String(error)}`)))
      .finally(() => {
        if (inFlight.get(id) === controller) inFlight.delete(id);
      });
  };

  transport.onmessage = (message, extra) => {
    if (isPlainToolCall(message)) {
      answer(message);
      return;
    }
    if ('method' in message && message.method === 'notifications/cancelled') {
      const params = message.params as { requestId?: RequestId; reason?: unknown } | undefined;
      if (params?.requestId !== undefined) inFlight.get(params.requestId)?.abort(params.reason);
    }
    sdkRoute?.(message, extra);
  };
  transport.onclose = () => {
    for (const controller of inFlight.values()) controller.abort();
    inFlight.clear();
    sdkClose?.();
  };
}

/** A tools/call request that the SDK's CallToolRequestSchema accepts, checked without zod. */
interface PlainToolCall extends JSONRPCRequest {
  method: 'tools/call';
  params: CallToolRequest['params'];
}

/**
 * True for a tools/call request that the SDK's schemas accept as it stands, decided by plain checks:
 * the envelope fields only, an id that is a string or a safe integer, params with a string `name`,
 * `arguments` an object if present, and `_meta` (if present) holding only a progress token. False
 * means "let the SDK judge it", never "invalid".
 */
export function isPlainToolCall(message: JSONRPCMessage): message is PlainToolCall {
  const fields = message as Record<string, unknown>;
  if (fields.method !== 'tools/call' || fields.jsonrpc !== '2.0') return false;
  if (typeof fields.id !== 'string' && !Number.isSafeInteger(fields.id)) return false;
  for (const key in fields) if (key !== 'jsonrpc' && key !== 'id' && key !== 'method' && key !== 'params') return false;
  const params = fields.params;
  if (!isObject(params) || typeof params.name !== 'string') return false;
  for (const key in params) {
    if (key === 'name') continue;
    if (key === 'arguments' && isObject(params.arguments)) continue;
    if (key === '_meta' && isProgressMeta(params._meta)) continue;
    return false;
  }
  return true;
}

function isProgressMeta(meta: unknown): boolean {
  if (!isObject(meta)) return false;
  for (const key in meta) if (key !== 'progressToken') return false;
  const token = meta.progressToken;
  return token === undefined || typeof token === 'string' || Number.isSafeInteger(token);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON-RPC error the SDK would send for `error` thrown by a handler. */
function errorResponse(id: RequestId, error: unknown): JSONRPCMessage {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
    data?: unknown;
  };
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: Number.isSafeInteger(fields.code) ? (fields.code as number) : ErrorCode.InternalError,
      message: typeof fields.message === 'string' ? fields.message : 'Internal error',
      ...(fields.data !== undefined ? { data: fields.data } : {}),
    },
  };
}
