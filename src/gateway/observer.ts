/**
 * A seam for observing the two tools without the core knowing who listens: metrics (http/metrics.ts)
 * plug in here, so the transport-free core never imports a metrics library. Each call reports once.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Profile } from '../config/load.js';
import type { CatalogTool } from '../catalog/types.js';
import type { SelectionMode } from '../selection/graph.js';
import type { Selection } from '../selection/selector.js';
import type { AutomaticMcpOutput } from './core.js';

/** One finished `automatic_mcp` call. */
export interface SelectionEvent {
  runId: string;
  caller: string;
  /**
   * The session the call spoke for (its sessionId, else the connection's default conversation; see
   * `GatewayCore.sessionKeyFor`); absent when it had none (a stateless request without a sessionId).
   */
  sessionId?: string;
  profile: Profile;
  mode: SelectionMode;
  /** Wall time of the selection itself (after start-up waiting), in milliseconds. */
  durationMs: number;
  /** What the caller received: full definitions in `tools`, names only in `unchanged`. */
  output: AutomaticMcpOutput;
  /**
   * Every tool the caller could see at this selection, with its definition and hash (what a client
   * would load without the gateway). A function, so an observer reads it off the request path.
   */
  catalog?: () => readonly CatalogTool[];
  /** The request as parsed, with the limit that applied. */
  request: { query: string; limit: number; fresh: boolean };
  /** What the graph did: the lexical candidates, the model's trace, the chosen tools. */
  selection: Selection;
}

/** One finished `automatic_eval` call, successful or not. */
export interface EvalEvent {
  runId: string;
  caller: string;
  /** The session the call spoke for, resolved as for a selection; absent when it had none or the input did not parse. */
  sessionId?: string;
  profile: Profile;
  /** The qualified tool name as requested. */
  toolName: string;
  /** The downstream server, when the name resolved to a tool this caller may use. */
  server?: string;
  /** `ok`, `tool_error` (the tool itself reported isError), `cancelled`, or a gateway error code. */
  outcome: string;
  durationMs: number;
  /** The arguments as the caller sent them (run traces store them only when configured to). */
  arguments?: unknown;
  /** The downstream result, when there is one (same rule). */
  result?: CallToolResult;
}

/** Callbacks the core calls once per tool call; both optional. They must not throw (failures are logged). */
export interface GatewayObserver {
  onSelection?(event: SelectionEvent): void;
  onEval?(event: EvalEvent): void;
}

/**
 * One observer that tells each of `observers` in turn (metrics and run traces side by side). One that
 * throws does not keep the others from hearing; the first error is rethrown for the core to log.
 */
export function combineObservers(...observers: (GatewayObserver | undefined)[]): GatewayObserver | undefined {
  const present = observers.filter((observer): observer is GatewayObserver => observer !== undefined);
  if (present.length <= 1) return present[0];
  const tellAll = (tell: (observer: GatewayObserver) => void) => {
    let failure: unknown;
    for (const observer of present) {
      try {
        tell(observer);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  };
  return {
    onSelection: (event) => tellAll((observer) => observer.onSelection?.(event)),
    onEval: (event) => tellAll((observer) => observer.onEval?.(event)),
  };
}
