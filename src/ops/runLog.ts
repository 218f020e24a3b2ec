/**
 * What `automcp.list_runs` and `automcp.get_run` read: the persisted run traces, behind the smallest
 * interface the tools need, so the trace store plugs in without the ops tools knowing its format.
 */

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
