/**
 * One tools/call forwarded to a connected server: the SDK request options (timeout, progress,
 * cancellation), the deadline that a relayed elicitation may pause, and the route — the short lane of
 * toolCalls.ts, or the SDK client itself. Failures come out as the SDK threw them: what they mean for
 * the server (a crash, a sign-in to redo) is decided by connection.ts, and what they mean for the
 * caller by callErrors.ts.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { CallDeadline, type CallRelay, type DownstreamRelay } from './relay.js';
import type { ToolCallLane } from './toolCalls.js';

/** What cancels a forwarded call: the upstream request's signal. */
export type CancelSignal = AbortSignal;

/** Options of one forwarded call. */
export interface CallOptions {
  tool: string;
  arguments: Record<string, unknown>;
  timeoutMs: number;
  /** The upstream request's signal: cancelling it cancels the downstream call. */
  signal?: CancelSignal;
  onProgress?: (progress: Progress) => void;
  /** The upstream call this one serves: what the server asks of the client during it goes there (relay.ts). */
  relay?: CallRelay;
}

/** The longest timer Node allows: the SDK's own timeout, when a {@link CallDeadline} keeps the real one. */
const NO_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Sends the call on `lane` when there is one, else through `client`, and tells the upstream peer what
 * it got (its resource URIs become readable). While it runs, the server's requests to the client go to
 * the caller through `relay`.
 */
export async function forwardCall({
  server,
  client,
  lane,
  relay,
  options,
}: {
  server: string;
  client: Client;
  lane: ToolCallLane | undefined;
  relay: DownstreamRelay;
  options: CallOptions;
}): Promise<CallToolResult> {
  let deadline: CallDeadline | undefined;
  let endRelay: (() => void) | undefined;
  try {
    const request: RequestOptions = {
      timeout: options.timeoutMs,
      // Long calls that report progress stay alive; silence still times out.
      resetTimeoutOnProgress: true,
    };
    if (options.signal) request.signal = options.signal;
    if (options.onProgress) request.onprogress = options.onProgress;
    if (options.relay) {
      // The timeout is kept by the deadline rather than the SDK, so that an elicitation can pause it.
      deadline = new CallDeadline(options.timeoutMs, options.signal);
      deadline.govern(request, options.onProgress);
      request.timeout = NO_TIMEOUT_MS;
      endRelay = relay.begin({ ...options.relay, deadline });
    }
    const result = lane
      ? await lane.call(options.tool, options.arguments, request)
      : ((await client.callTool({ name: options.tool, arguments: options.arguments }, undefined, request)) as CallToolResult);
    options.relay?.peer.sawResult(server, result);
    return result;
  } finally {
    deadline?.dispose();
    endRelay?.();
  }
}
