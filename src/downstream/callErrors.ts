/**
 * What a failed downstream call becomes for the caller: a timeout (the outcome is unknown), a
 * connection that closed mid-call (the server may have crashed), a server that could not be started,
 * is being stopped, or is down after failing to start too often, or any other failure — each naming
 * the server, so the caller can tell which of several servers to look at.
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

/** What a call gets when its server could not be started or reached, for a reason that is not already a GatewayError. */
export function unavailableError({ server, error }: { server: string; error: unknown }): GatewayError {
  return new GatewayError('DOWNSTREAM_UNAVAILABLE', `server "${server}" could not be started or reached: ${messageOf(error)}`, {
    data: { server },
    cause: error,
  });
}

/**
 * What a call to a server that is down (cooling down after `failures` failed starts in a row) gets:
 * DOWNSTREAM_UNAVAILABLE with when it will be retried, so a caller can wait rather than hammer it.
 */
export function downError({
  server,
  failures,
  lastError,
  until,
  now,
}: {
  server: string;
  failures: number;
  lastError: string | undefined;
  until: number;
  now: number;
}): GatewayError {
  const retryAt = new Date(until).toISOString();
  return new GatewayError(
    'DOWNSTREAM_UNAVAILABLE',
    `server "${server}" is down after ${failures} failures in a row (last: ${lastError ?? 'unknown'}); it will be retried at ${retryAt}`,
    { data: { server, retryAt, retryInMs: Math.max(0, until - now) } },
  );
}

/**
 * Why a start was refused or abandoned: the server is being stopped. A plain Error, not a
 * GatewayError, because callers that need one wrap it with {@link unavailableError}.
 */
export function stoppingError(server: string): Error {
  return new Error(`server "${server}" is stopping`);
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
