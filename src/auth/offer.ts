/**
 * Offering sign-in through the calling client. When a call reaches a server that needs sign-in and the
 * client declared URL-mode elicitation, the gateway runs the sign-in itself (the same flow as
 * `automcp login`, loopback redirect included) and hands the authorization URL to the person as an
 * `elicitation/create` in URL mode, related to their call. Once the redirect arrives the call is
 * retried; if they decline, or the sign-in fails or times out, the call gets the usual
 * DOWNSTREAM_UNAVAILABLE with the command to run.
 *
 * The redirect goes to 127.0.0.1 on the machine running the gateway, so this helps where the person's
 * browser runs there too (a desktop client starting `automcp serve`); elsewhere they decline and run
 * `automcp login` with a forwarded port (docs/remote-servers.md).
 */
import { randomUUID } from 'node:crypto';
import type { CallRelay } from '../downstream/relay.js';
import type { Logger } from '../logging/logger.js';
import type { SignInRequiredError } from './errors.js';

/** Sign-ins being offered, by token file: concurrent calls to one server share one offer. */
const offering = new Map<string, Promise<boolean>>();

/** What an offer needs. */
interface OfferInput {
  error: SignInRequiredError;
  relay: CallRelay;
  /** The upstream call's signal: its end abandons the offer. */
  signal?: AbortSignal | undefined;
  logger: Logger;
}

/** Offers sign-in to the person behind `relay`; resolves true once it succeeded (never rejects). */
export function offerSignIn(input: OfferInput): Promise<boolean> {
  const { error } = input;
  let pending = offering.get(error.file);
  if (!pending) {
    pending = run(input).finally(() => offering.delete(error.file));
    offering.set(error.file, pending);
  }
  return pending;
}

async function run({ error, relay, signal, logger }: OfferInput): Promise<boolean> {
  const elicitationId = randomUUID();
  const abandon = new AbortController();
  const ends = signal ? AbortSignal.any([signal, abandon.signal]) : abandon.signal;
  try {
    await error.interactive!({
      signal: ends,
      onUrl: async (url) => {
        const request = {
          method: 'elicitation/create' as const,
          params: {
            mode: 'url' as const,
            message: `Sign in to "${error.server}" to continue; automcp keeps the sign-in for later calls.`,
            url: url.href,
            elicitationId,
          },
        };
        const answer = (await relay.peer.request(request, relay.requestId, ends)) as { action?: string };
        if (answer.action !== 'accept') {
          abandon.abort();
          throw new Error(`the person chose ${answer.action ?? 'nothing'}`);
        }
      },
    });
    relay.peer.notify({ method: 'notifications/elicitation/complete', params: { elicitationId } }, relay.requestId);
    logger.info({ server: error.server }, 'signed in through the calling client');
    return true;
  } catch (failure) {
    logger.info({ server: error.server, err: (failure as Error).message }, 'sign-in offered through the client did not complete');
    return false;
  }
}
