/**
 * tools/call on a stdio downstream connection without the SDK client's per-request machinery. The
 * SDK's `Client` classifies every incoming message with zod guards, builds a dozen closures per
 * request and keeps its timeout, progress and cancellation state in four maps; on the
 * `automatic_eval` path, which only forwards a call, that was a large share of what the gateway added
 * to a call. This lane sends the request itself on the same transport, with ids far above any the
 * SDK client will reach, and takes back only the messages that carry them; everything else still
 * reaches the client. What the caller sees is what `Client.callTool` gives: the result checked
 * against the SDK's CallToolResultSchema, McpErrors with the same codes for a JSON-RPC error, a
 * timeout (reset by progress) or a closed connection, and notifications/cancelled sent downstream
 * when the signal aborts. Tools whose results the client must check against an output schema, or
 * that need tasks, are not for this lane (see {@link needsClient}).
 */
import { DEFAULT_REQUEST_TIMEOUT_MSEC, type RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolResultSchema,
  ErrorCode,
  McpError,
  type CallToolResult,
  type JSONRPCMessage,
  type Progress,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';

/** The first request id of the lane: the SDK client counts up from 0 and never gets near it. */
const FIRST_ID = 2 ** 48;

interface Pending {
  resolve: (result: CallToolResult) => void;
  reject: (error: unknown) => void;
  onProgress: ((progress: Progress) => void) | undefined;
  /** Restarts the timeout: the request made progress. */
  touch: () => void;
}

/** True for a tool whose calls must go through the SDK client: it checks an output schema, or needs tasks. */
export function needsClient(tool: Tool): boolean {
  return (
    tool.outputSchema !== undefined || (tool.execution?.taskSupport !== undefined && tool.execution.taskSupport !== 'forbidden')
  );
}

/** The lane on one connected transport. Create it after the SDK client connected to `transport`. */
export class ToolCallLane {
  readonly #transport: Transport;
  readonly #pending = new Map<number, Pending>();
  #next = FIRST_ID;

  constructor(transport: Transport) {
    this.#transport = transport;
    const route = transport.onmessage;
    const closed = transport.onclose;
    transport.onmessage = (message, extra) => {
      if (!this.#take(message)) route?.(message, extra);
    };
    transport.onclose = () => {
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      closed?.();
      for (const call of pending) call.reject(new McpError(ErrorCode.ConnectionClosed, 'Connection closed'));
    };
  }

  /**
   * Calls `name` with `args`; settles as `Client.callTool` would. Of the request options it reads the
   * signal, the progress callback and the timeout, which progress always restarts.
   */
  call(name: string, args: Record<string, unknown>, options: RequestOptions): Promise<CallToolResult> {
    const { signal, onprogress: onProgress } = options;
    const timeoutMs = options.timeout ?? DEFAULT_REQUEST_TIMEOUT_MSEC;
    const id = this.#next++;
    return new Promise<CallToolResult>((resolve, reject) => {
      // Thrown in here, an aborted signal's reason becomes the rejection, as in the SDK.
      signal?.throwIfAborted();
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        this.#pending.delete(id);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const cancel = (reason: unknown) => {
        if (!this.#pending.has(id)) return;
        finish();
        this.#transport
          .send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: String(reason) } })
          .catch(() => undefined);
        reject(reason instanceof McpError ? reason : new McpError(ErrorCode.RequestTimeout, String(reason)));
      };
      const onAbort = () => cancel(signal?.reason);
      const expire = () => cancel(new McpError(ErrorCode.RequestTimeout, 'Request timed out', { timeout: timeoutMs }));
      timer = setTimeout(expire, timeoutMs);
      this.#pending.set(id, {
        resolve: (result) => {
          finish();
          resolve(result);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
        onProgress,
        touch: () => {
          clearTimeout(timer);
          timer = setTimeout(expire, timeoutMs);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      const params = onProgress ? { name, arguments: args, _meta: { progressToken: id } } : { name, arguments: args };
      this.#transport.send({ jsonrpc: '2.0', id, method: 'tools/call', params }).catch((error: unknown) => {
        this.#pending.get(id)?.reject(error);
      });
    });
  }

  /** Settles the call `message` answers, or passes a progress notification to it; false: not ours. */
  #take(message: JSONRPCMessage): boolean {
    const fields = message as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    if (typeof fields.id === 'number' && fields.id >= FIRST_ID && fields.method === undefined) {
      const call = this.#pending.get(fields.id);
      if (!call) return false;
      if (fields.error !== undefined) {
        const { code, message: text, data } = (fields.error ?? {}) as { code?: unknown; message?: unknown; data?: unknown };
        call.reject(
          McpError.fromError(
            typeof code === 'number' ? code : ErrorCode.InternalError,
            typeof text === 'string' ? text : 'Internal error',
            data,
          ),
        );
        return true;
      }
      const parsed = CallToolResultSchema.safeParse(fields.result);
      if (parsed.success) call.resolve(parsed.data);
      else call.reject(parsed.error);
      return true;
    }
    if (fields.method === 'notifications/progress') {
      const { progressToken, ...progress } = (fields.params ?? {}) as Progress & { progressToken?: unknown };
      const call = typeof progressToken === 'number' ? this.#pending.get(progressToken) : undefined;
      if (!call) return false;
      call.touch();
      call.onProgress?.(progress);
      return true;
    }
    return false;
  }
}
