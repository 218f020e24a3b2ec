/**
 * How much a downstream server is used: the requests in flight, and when one last started or ended.
 * This is what an idle stop goes by, so a server is never stopped under a running call, and a server
 * that just finished one is not stopped at once either.
 */

/** Default idle timeout of stdio servers, in seconds. */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 600;

/** The requests in flight to one server, and its last use. */
export class Usage {
  readonly #now: () => number;
  #inFlight = 0;
  #lastUsedAt: number;

  constructor(now: () => number) {
    this.#now = now;
    this.#lastUsedAt = now();
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Milliseconds since the last request started or ended (or the server last started). */
  idleMs(): number {
    return this.#now() - this.#lastUsedAt;
  }

  /** Counts the server as used now, without a request (it has just started). */
  touch(): void {
    this.#lastUsedAt = this.#now();
  }

  /** A request started; {@link end} must follow, in a `finally`. */
  begin(): void {
    this.#inFlight += 1;
    this.#lastUsedAt = this.#now();
  }

  /** A request ended, however it ended. */
  end(): void {
    this.#inFlight -= 1;
    this.#lastUsedAt = this.#now();
  }

  /** Runs `request` as a request in flight. */
  async during<T>(request: () => Promise<T>): Promise<T> {
    this.begin();
    try {
      return await request();
    } finally {
      this.end();
    }
  }
}
