/**
 * How far V8 lets the old generation grow past the live heap before its next full collection.
 *
 * Why: every selection runs a LangGraph graph, and LangGraph makes a few `AbortController`s per run and
 * per step. Node.js allocates those signals in old space, so the young objects they point at (listeners,
 * configs, promises of that run) survive every scavenge and die only at the next mark-compact. By
 * default V8 lets old space grow to about four times the live heap before that; with a 10,000-tool
 * catalog (about 95 MB live) that is 500+ MB of RSS that is almost all garbage. A fixed growing factor
 * of 1.3 keeps the same run near 270 MB at the same selection latency (docs/benchmarks.md).
 *
 * The flag is read by V8 whenever it sizes the heap after a collection, so setting it at start-up
 * applies to the whole process. A limit the user already gave node (`--heap-growing-percent` or
 * `--max-old-space-size` in its arguments or NODE_OPTIONS) is left alone.
 */

/** The growing percentage automcp sets when nothing else says otherwise. */
export const DEFAULT_HEAP_GROWING_PERCENT = 30;

/** The environment variable that overrides it; 0 leaves V8's own heuristic. */
export const HEAP_GROWING_ENV = 'AUTOMCP_HEAP_GROWING_PERCENT';

const USER_HEAP_FLAGS = /--(heap[-_]growing[-_]percent|max[-_]old[-_]space[-_]size)\b/;

/** What applyHeapGrowing decided, for logs and benchmark reports. */
export interface HeapGrowing {
  /** The percentage set, or undefined when V8's default or the user's own flag applies. */
  percent?: number;
  /** Where the decision came from. */
  source: 'default' | 'env' | 'node-flags';
}

/** What applyHeapGrowing reads and calls; injected so the decision can be tested without V8. */
export interface HeapGrowingOptions {
  env: NodeJS.ProcessEnv;
  execArgv: readonly string[];
  setFlags(flags: string): void;
}

/**
 * Sets V8's heap growing factor unless the user chose their own; throws an Error naming the variable
 * and the accepted values when AUTOMCP_HEAP_GROWING_PERCENT is not an integer from 0 to 400.
 */
export function applyHeapGrowing({ env, execArgv, setFlags }: HeapGrowingOptions): HeapGrowing {
  const raw = env[HEAP_GROWING_ENV]?.trim();
  if (raw !== undefined && raw !== '') {
    const percent = Number(raw);
    if (!/^\d+$/.test(raw) || percent > 400) {
      throw new Error(
        `${HEAP_GROWING_ENV} is "${raw}": expected an integer from 0 to 400 (0 keeps V8's own heap growing; default ${DEFAULT_HEAP_GROWING_PERCENT})`,
      );
    }
    if (percent === 0) return { source: 'env' };
    setFlags(`--heap-growing-percent=${percent}`);
    return { percent, source: 'env' };
  }
  if (execArgv.some((arg) => USER_HEAP_FLAGS.test(arg)) || USER_HEAP_FLAGS.test(env.NODE_OPTIONS ?? '')) {
    return { source: 'node-flags' };
  }
  setFlags(`--heap-growing-percent=${DEFAULT_HEAP_GROWING_PERCENT}`);
  return { percent: DEFAULT_HEAP_GROWING_PERCENT, source: 'default' };
}
