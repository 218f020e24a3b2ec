/**
 * Run traces hear about calls through the core's observer seam, like metrics: the core knows nothing
 * of files. Building a record is a few small objects; serialising and writing happen in the store's
 * background flush.
 */
import type { GatewayObserver } from '../gateway/observer.js';
import { evalTrace, selectionTrace } from './record.js';
import type { TraceStore } from './store.js';

/** An observer that appends one record per `automatic_mcp` and `automatic_eval` call to `store`. */
export function createTraceObserver({
  store,
  includeArguments,
  now = Date.now,
}: {
  store: Pick<TraceStore, 'append'>;
  /** Keep argument values and results (off by default: they are the caller's data). */
  includeArguments: boolean;
  now?: () => number;
}): GatewayObserver {
  return {
    onSelection: (event) => store.append(selectionTrace(event, now())),
    onEval: (event) => store.append(evalTrace(event, now(), includeArguments)),
  };
}
