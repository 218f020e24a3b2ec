/**
 * What a failed downstream call becomes for the caller: a timeout (the outcome is unknown), a
 * connection that closed mid-call (the server may have crashed), or any other failure, each a
 * {@link GatewayError} naming the server.
 */
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { GatewayError } from '../errors.js';

/** Maps an error thrown by the SDK client's `callTool` to a GatewayError. */
export function callError({ server, error, timeoutMs }: { server: string; error: unknown; timeoutMs: number }): GatewayError {
  if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
    return new GatewayError(
      'DOWNSTREAM_TIMEOUT',
      `server "${server}" gave no answer within ${timeoutMs} ms; the outcome is unknown (the call may still have taken effect)`,
      { data: { server, timeoutMs }, cause: error },
    );
  }
  if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) {
    return new GatewayError(
      'DOWNSTREAM_ERROR',
      `server "${server}" closed the connection during the call (it may have crashed); the next call restarts it`,
      { data: { server }, cause: error },
    );
  }
  const code = error instanceof McpError ? { downstreamCode: error.code } : {};
  return new GatewayError('DOWNSTREAM_ERROR', `server "${server}" failed the call: ${messageOf(error)}`, {
    data: { server, ...code },
    cause: error,
  });
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
