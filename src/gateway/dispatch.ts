/**
 * A shorter way in for the upstream connection's requests. The SDK's `Protocol` classifies every
 * incoming message by trying its zod schemas in turn — result response, error response, request,
 * notification — so each request first fails two response schemas, and a failed zod parse builds an
 * error with its issues and a stack trace. On the `automatic_eval` path that was one of the largest
 * costs the gateway added over calling the downstream server directly. Requests go straight to the
 * SDK's request handling, which does everything else as before; every other message takes the SDK's
 * own route. A request is recognised by a plain check of its envelope when that settles it (see
 * isPlainRequest), else by the SDK's own request guard.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isJSONRPCRequest,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type MessageExtraInfo,
} from '@modelcontextprotocol/sdk/types.js';

/** The SDK's per-request entry point: `Protocol#_onrequest` (TypeScript-private; present in the locked 1.32). */
type RequestEntry = (this: Server, request: JSONRPCRequest, extra?: MessageExtraInfo) => void;

/**
 * Hands requests arriving on `transport` straight to `server`'s request handling. Call it right after
 * `server.connect(transport)`. Without the SDK entry point (a future SDK that renamed it) this leaves
 * the SDK's routing alone, so the worst case is the old speed, never a lost message.
 */
export function routeRequestsDirectly(server: Server, transport: Transport): boolean {
  const onRequest = (server as unknown as { _onrequest?: RequestEntry })._onrequest;
  const sdkRoute = transport.onmessage;
  if (typeof onRequest !== 'function' || !sdkRoute) return false;
  transport.onmessage = (message: JSONRPCMessage, extra?: MessageExtraInfo) => {
    // A message with `result` or `error` is a response, whatever else it carries: the SDK decides.
    if (isPlainRequest(message) || (!('result' in message) && !('error' in message) && isJSONRPCRequest(message))) {
      onRequest.call(server, message as JSONRPCRequest, extra);
    } else {
      sdkRoute(message, extra);
    }
  };
  return true;
}

/**
 * True for a request that the SDK's request schema accepts, decided without zod: the envelope fields
 * only, an id that is a string or a safe integer, and params (if any) an object without `_meta`. False
 * means "ask the SDK's own guard", never "not a request".
 */
function isPlainRequest(message: JSONRPCMessage): boolean {
  const fields = message as Record<string, unknown>;
  if (fields.jsonrpc !== '2.0' || typeof fields.method !== 'string') return false;
  if (typeof fields.id !== 'string' && !Number.isSafeInteger(fields.id)) return false;
  const params = fields.params;
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params) || '_meta' in params)) {
    return false;
  }
  for (const key in fields) if (key !== 'jsonrpc' && key !== 'id' && key !== 'method' && key !== 'params') return false;
  return true;
}
