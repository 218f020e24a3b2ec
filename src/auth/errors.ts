/**
 * "This server needs sign-in" as one error type. The SDK says it several ways (an `UnauthorizedError`,
 * a 401 `StreamableHTTPError` after a refresh that did not help, an OAuth error from the token
 * endpoint); the transport turns each into a {@link SignInRequiredError} so the connection has one
 * thing to recognise. It is not a crash: the connection parks the server until the sign-in changes on
 * disk (`automcp login` in another terminal), and never restarts it in a loop.
 *
 * This module imports nothing from the SDK's OAuth code, so the connection can use it without loading
 * that code for servers that never sign in.
 */
import type { CallRelay } from '../downstream/relay.js';
import { GatewayError } from '../errors.js';

/** Tells whether the stored sign-in changed since a moment: what lets a parked server try again. */
export interface SignInWatch {
  /** Where the sign-in is kept: one per server and state directory. */
  readonly path: string;
  /** An opaque mark of the stored sign-in now (the token file's identity). */
  signature(): Promise<string>;
}

/**
 * Runs a whole sign-in (what `automcp login` does) with `onUrl` in place of the browser: how a gateway
 * offers sign-in to the person through their MCP client. Rejects when it fails or `signal` aborts.
 */
export type InteractiveSignIn = (options: { onUrl: (url: URL) => Promise<void>; signal: AbortSignal }) => Promise<void>;

/** The reason automatic_eval reports for a server that needs sign-in (CONTRACT: DOWNSTREAM_UNAVAILABLE). */
export const SIGN_IN_REASON = 'sign-in required';

/** The command that signs in to `server`. */
export function loginCommand(server: string): string {
  return `automcp login ${server}`;
}

/** A remote server refused us until someone signs in again. Never carries a token. */
export class SignInRequiredError extends Error {
  override readonly name = 'SignInRequiredError';
  readonly server: string;
  /** A sign-in the gateway can run itself, offering the URL through the calling client; see offer.ts. */
  readonly interactive: InteractiveSignIn | undefined;
  /** The sign-in mark when this was raised; a different mark later means someone signed in. */
  readonly #mark: string;
  readonly #watch: SignInWatch;

  constructor({
    server,
    detail,
    mark,
    watch,
    cause,
    interactive,
  }: {
    server: string;
    detail: string;
    mark: string;
    watch: SignInWatch;
    cause?: unknown;
    interactive?: InteractiveSignIn;
  }) {
    super(`server "${server}" needs sign-in (${detail}); run \`${loginCommand(server)}\``, cause === undefined ? {} : { cause });
    this.server = server;
    this.interactive = interactive;
    this.#mark = mark;
    this.#watch = watch;
  }

  /** Where the sign-in is kept: sign-ins of the same file are one sign-in. */
  get file(): string {
    return this.#watch.path;
  }

  /** True once the stored sign-in changed since this error (a login or logout happened). */
  async changed(): Promise<boolean> {
    return (await this.#watch.signature()) !== this.#mark;
  }
}

/** The SignInRequiredError in `error` or its causes, if any. */
export function signInRequired(error: unknown): SignInRequiredError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (current instanceof SignInRequiredError) return current;
    current = current.cause;
  }
  return undefined;
}

/**
 * True for the SDK's ways of saying the server wants (new) credentials: its `UnauthorizedError`, and a
 * Streamable HTTP or SSE error with status 401. Matched by shape, so this module need not load the SDK.
 */
export function isUnauthorized(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.constructor.name === 'UnauthorizedError') return true;
  return (error as { code?: unknown }).code === 401;
}

/** What a call to a server that needs sign-in gets: DOWNSTREAM_UNAVAILABLE with the reason and the command. */
export function signInUnavailable(error: SignInRequiredError): GatewayError {
  return new GatewayError('DOWNSTREAM_UNAVAILABLE', error.message, {
    data: { server: error.server, reason: SIGN_IN_REASON, command: loginCommand(error.server) },
    cause: error,
  });
}

/** True when the client behind `relay` can open a URL for the person (URL-mode elicitation): see offer.ts. */
export function canOfferSignIn(relay: CallRelay | undefined, error: SignInRequiredError): relay is CallRelay {
  return (
    relay !== undefined &&
    error.interactive !== undefined &&
    !relay.peer.closed &&
    relay.peer.capabilities()?.elicitation?.url !== undefined
  );
}
