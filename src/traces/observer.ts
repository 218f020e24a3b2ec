/**
 * Run traces hear about calls through the core's observer seam, like metrics: the core knows nothing
 * of files. Building a record is a few small objects; serialising and writing happen in the store's
 * background flush.
 *
 * A selection's record also carries its token cost — what the caller was sent against what its whole
 * catalog would have cost (the dashboard's savings chart). Counting a large catalog takes a while, so a
 * {@link TokenTally} counts in later event-loop turns (each catalog once per etag, each definition once
 * per hash) and fills the record in; the store's write waits for that, the call itself never does.
 * The tokenizer is loaded at the first selection, and only when counting is on (`traces.countTokens`).
 */
import type { GatewayObserver } from '../gateway/observer.js';
import type { TokenTally } from '../http/tokenTally.js';
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
  let tally: Promise<TokenTally> | undefined;
  // The latest queued selection: the tally resolves once, so its turn comes after every earlier one.
  let queued: Promise<void> = Promise.resolve();
  if (countTokens) {
    store.waitBeforeWriting?.(async () => {
      await queued;
      await (await tally)?.settled();
    });
  }
  return {
    onSelection: (event) => {
      const record = selectionTrace(event, now());
      store.append(record);
      const catalog = event.catalog;
      if (!countTokens || !catalog) return;
      // Loaded at the first selection that counts, so a gateway that never does loads neither.
      tally ??= Promise.all([import('../http/tokenTally.js'), import('../tokens/count.js')]).then(
        ([{ TokenTally: Tally }, { countJsonTokens }]) =>
          new Tally({ count: safeCount(countJsonTokens), response: () => undefined, catalog: () => undefined }),
      );
      queued = tally
        .then((counter) =>
          counter.add({
            output: event.output,
            catalogKey: `${event.profile.name}\u0000${event.output.etag}`,
            catalog,
            counted: ({ response, catalog: full }) => {
              record.tokens = { sent: response, ...(full !== undefined ? { catalog: full } : {}) };
            },
          }),
        )
        // Counts are a nicety: a record without them is still written.
        .catch(() => undefined);
    },
    onEval: (event) => store.append(evalTrace(event, now(), includeArguments)),
  };
}

/**
 * A definition that contains a tokenizer's special token (`<|endoftext|>`) makes the tokenizer throw;
 * such a text is counted with the marker broken up, which differs by a token or two.
 */
function safeCount(count: (value: unknown) => number): (value: unknown) => number {
  return (value) => {
    try {
      return count(value);
    } catch {
      return count(JSON.stringify(value).replaceAll('<|', '< |'));
    }
  };
}
