/**
 * What `automcp.list_runs` and `automcp.get_run` read: the persisted run traces, behind the smallest
 * interface the tools need, so the trace store plugs in without the ops tools knowing its format.
 */
import { GatewayError } from '../errors.js';
import { parseSince } from '../traces/query.js';
import type { TraceStore } from '../traces/store.js';

/** Which runs to list. */
export interface RunFilter {
  /** Only runs of this caller. */
  caller?: string;
  /** Only runs after this time: ISO 8601, or a duration back from now (`15m`, `1h`, `2d`). */
  since?: string;
  /** Only runs that chose or called this qualified tool name. */
  tool?: string;
  /** Most runs to return, newest first. */
  limit?: number;
}

/** The run traces, as the ops tools read them. Records carry at least `runId` and `caller`. */
export interface RunLog {
  list(filter: RunFilter): Promise<unknown[]>;
  get(runId: string): Promise<unknown>;
}

/**
 * The run log over the gateway's trace store: `since` is read as `automcp runs --since` reads it, and a
 * value that is neither a duration nor a date is the agent's to fix.
 */
export function runLogOf(store: TraceStore, now: () => number): RunLog {
  return {
    async list(filter) {
      let since: number | undefined;
      if (filter.since !== undefined) {
        since = parseSince(filter.since, now());
        if (since === undefined) {
          throw new GatewayError(
            'INVALID_INPUT',
            `since "${filter.since}" is neither a duration (15m, 1h, 2d) nor an ISO 8601 date`,
          );
        }
      }
      return store.list({
        ...(filter.caller !== undefined ? { caller: filter.caller } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(filter.tool !== undefined ? { tool: filter.tool } : {}),
        ...(filter.limit !== undefined ? { limit: filter.limit } : {}),
      });
    },
    get: (runId) => store.get(runId),
  };
}
