/**
 * Run traces hear about calls through the core's observer seam, like metrics: the core knows nothing
 * of files. Building a record is a few small objects; serialising and writing happen in the store's
 * background flush.
 *
 * A selection's record also carries its token cost — what the caller was sent against what its whole
 * catalog would have cost (the dashboard's savings chart). Counting a large catalog takes a while, so a
 * {@link TokenTally} counts in later event-loop turns (each catalog once per etag, each definition once
 * per hash) and fills the record in; the store's write waits for that, the call itself never does.
 */
import type { GatewayObserver } from '../gateway/observer.js';
import { TokenTally } from '../http/tokenTally.js';
import { countJsonTokens } from '../tokens/count.js';
import { evalTrace, selectionTrace } from './record.js';
import type { TraceStore } from './store.js';

/** An observer that appends one record per `automatic_mcp` and `automatic_eval` call to `store`. */
export function createTraceObserver({
  store,
  includeArguments,
  now = Date.now,
  countTokens = true,
}: {
  store: Pick<TraceStore, 'append' | 'waitBeforeWriting'>;
  /** Keep argument values and results (off by default: they are the caller's data). */
  includeArguments: boolean;
  now?: () => number;
  /** Record each selection's token cost (default true). */
  countTokens?: boolean;
}): GatewayObserver {
  const tally = countTokens
    ? new TokenTally({ count: safeCount, response: () => undefined, catalog: () => undefined })
    : undefined;
  if (tally) store.waitBeforeWriting?.(() => tally.settled());
  return {
    onSelection: (event) => {
      const record = selectionTrace(event, now());
      store.append(record);
      if (!tally || !event.catalog) return;
      tally.add({
        output: event.output,
        catalogKey: `${event.profile.name}\u0000${event.output.etag}`,
        catalog: event.catalog,
        counted: ({ response, catalog }) => {
          record.tokens = { sent: response, ...(catalog !== undefined ? { catalog } : {}) };
        },
      });
    },
    onEval: (event) => store.append(evalTrace(event, now(), includeArguments)),
  };
}

/**
 * A definition that contains a tokenizer's special token (`<|endoftext|>`) makes the tokenizer throw;
 * such a text is counted with the marker broken up, which differs by a token or two.
 */
function safeCount(value: unknown): number {
  try {
    return countJsonTokens(value);
  } catch {
    return countJsonTokens(JSON.stringify(value).replaceAll('<|', '< |'));
  }
}
