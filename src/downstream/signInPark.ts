/**
 * The sign-in side of one downstream connection. A remote server that wants a new sign-in is parked
 * (`needs-sign-in`): calls fail at once with the command to run, and the next start waits until the
 * stored sign-in changes — it is not a crash, so nothing retries it in a loop. A caller whose client
 * can open a URL for the person is offered the sign-in instead (auth/offer.ts), and its call is tried
 * once more. The connection still owns the lifecycle and the SDK client; this module keeps why the
 * server is parked and decides when it may start again, so connection.ts need not know how sign-in
 * works.
 */
import { canOfferSignIn, signInRequired, signInUnavailable, type SignInRequiredError } from '../auth/errors.js';
import type { GatewayError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { CallRelay } from './relay.js';

/** Where a retry after a sign-in offer goes: the upstream call's relay and signal. */
export interface SignInOffer {
  relay?: CallRelay | undefined;
  signal?: AbortSignal | undefined;
}

/** Why a server is parked in `needs-sign-in`, and the way out of it. */
export class SignInPark {
  readonly #logger: Logger;
  /** Why the server is parked; it may start again once this says the sign-in changed. */
  #parked: SignInRequiredError | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** True while the server waits for a new sign-in. */
  get parked(): boolean {
    return this.#parked !== undefined;
  }

  /**
   * Records that the server needs sign-in (the lifecycle already moved to `needs-sign-in`) and returns
   * what the caller gets: DOWNSTREAM_UNAVAILABLE with the command to run.
   */
  park(signIn: SignInRequiredError): GatewayError {
    this.#parked = signIn;
    this.#logger.warn({ err: signIn.message }, 'server needs sign-in; calls fail until it is signed in again');
    return signInUnavailable(signIn);
  }

  /**
   * Lets a parked server start again once its stored sign-in changed; throws the sign-in error while it
   * has not. One stat of the token file: a login (or logout) in another terminal is enough.
   */
  async release(): Promise<void> {
    const parked = this.#parked;
    if (!parked) return;
    if (!(await parked.changed())) throw signInUnavailable(parked);
    // A start that parked the server again meanwhile keeps its own reason.
    if (this.#parked === parked) this.#parked = undefined;
  }

  /**
   * Runs `attempt`; when it fails because the server needs sign-in and the person behind the offer's
   * relay just signed in through their client, runs it once more. Any other failure is rethrown as is.
   */
  async retrying<T>(attempt: () => Promise<T>, offer: SignInOffer): Promise<T> {
    try {
      return await attempt();
    } catch (error) {
      if (!(await this.#signedInThrough(error, offer))) throw error;
      return attempt();
    }
  }

  /**
   * True when `error` says the server needs sign-in and the person behind `relay` just signed in
   * through their client (auth/offer.ts); false at once when it is another error or they cannot.
   */
  async #signedInThrough(error: unknown, { relay, signal }: SignInOffer): Promise<boolean> {
    const signIn = signInRequired(error);
    if (!signIn || signal?.aborted || !canOfferSignIn(relay, signIn)) return false;
    // Loaded on demand: most gateways never offer a sign-in, and the offer pulls in the loopback server.
    const { offerSignIn } = await import('../auth/offer.js');
    return offerSignIn({ error: signIn, relay, logger: this.#logger, ...(signal ? { signal } : {}) });
  }
}
