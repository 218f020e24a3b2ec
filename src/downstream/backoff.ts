/**
 * When a failed server may be started again. Consecutive failures (a start that failed, or a
 * connection that dropped) push the next attempt out exponentially, with jitter so many gateways on
 * one machine do not retry in step. After {@link DOWN_AFTER_FAILURES} in a row the server is down for
 * a cool-down: calls fail fast and say when it will be retried. A successful start forgets it all.
 * Pure bookkeeping over an injected clock and random source, so tests never sleep.
 */

/** Consecutive failures after which a server is marked down. */
export const DOWN_AFTER_FAILURES = 5;
/** How long a down server is left alone before the next attempt. */
export const COOL_DOWN_MS = 60_000;
/** First wait before a call restarts a failed server; doubles per failure up to the maximum. */
export const RESTART_BASE_MS = 250;
export const RESTART_MAX_MS = 8_000;
/** First wait before a background retry of a server nobody is calling; doubles up to the maximum. */
export const RETRY_BASE_MS = 2_000;
export const RETRY_MAX_MS = 60_000;
/** Each wait is scaled by a random factor in [1 - JITTER, 1 + JITTER]. */
export const JITTER = 0.2;

/** What a caller may do now: start at once, wait first, or fail fast until `until`. */
export type RestartGate = { kind: 'go' } | { kind: 'wait'; ms: number } | { kind: 'down'; until: number };

/** Failure bookkeeping of one server. */
export class RestartPolicy {
  readonly #now: () => number;
  readonly #random: () => number;
  #failures = 0;
  #failedAt = 0;
  /** Jitter factors drawn once per failure, so repeated looks at the same failure agree. */
  #restartFactor = 1;
  #retryFactor = 1;

  constructor({ now = Date.now, random = Math.random }: { now?: () => number; random?: () => number } = {}) {
    this.#now = now;
    this.#random = random;
  }

  /** Consecutive failures since the last successful start. */
  get failures(): number {
    return this.#failures;
  }

  /** True while the server is in its cool-down. */
  get down(): boolean {
    return this.#failures >= DOWN_AFTER_FAILURES && this.#now() < this.downUntil;
  }

  /** When the cool-down ends (meaningful while {@link down}). */
  get downUntil(): number {
    return this.#failedAt + COOL_DOWN_MS;
  }

  /** Records a failed start or a dropped connection. */
  recordFailure(): void {
    this.#failures += 1;
    this.#failedAt = this.#now();
    this.#restartFactor = this.#jitter();
    this.#retryFactor = this.#jitter();
  }

  /** Records a successful start. */
  recordSuccess(): void {
    this.#failures = 0;
  }

  /**
   * May a call start the server now? The first restart after a failure waits briefly (a crash is
   * often a one-off); each further failure doubles the wait; too many make the server down.
   */
  gate(): RestartGate {
    if (this.#failures === 0) return { kind: 'go' };
    if (this.#failures >= DOWN_AFTER_FAILURES) {
      return this.#now() < this.downUntil ? { kind: 'down', until: this.downUntil } : { kind: 'go' };
    }
    const wait = Math.min(RESTART_BASE_MS * 2 ** (this.#failures - 1), RESTART_MAX_MS) * this.#restartFactor;
    const remaining = Math.round(this.#failedAt + wait - this.#now());
    return remaining > 0 ? { kind: 'wait', ms: remaining } : { kind: 'go' };
  }

  /** Is a background retry (nobody is waiting on it) due? Paced more slowly than restarts by calls. */
  retryDue(): boolean {
    if (this.#failures === 0) return false;
    if (this.down) return false;
    const wait = Math.min(RETRY_BASE_MS * 2 ** (this.#failures - 1), RETRY_MAX_MS) * this.#retryFactor;
    return this.#now() - this.#failedAt >= wait;
  }

  #jitter(): number {
    return 1 - JITTER + 2 * JITTER * this.#random();
  }
}
