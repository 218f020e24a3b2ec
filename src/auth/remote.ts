/**
 * Sign-in for a running gateway's connection to one remote server: the background provider the SDK's
 * HTTP transports get as `authProvider`, a refresh shortly before the access token expires (the SDK
 * itself only refreshes after a 401, which would cost every call after expiry a round trip), and the
 * translation of the SDK's "unauthorized" errors into {@link SignInRequiredError}.
 *
 * Loaded with the SDK's HTTP transports, only when a remote server first starts (see transport.ts).
 */
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ServerSpec } from '../config/load.js';
import { isUnauthorized, SignInRequiredError, signInRequired, type InteractiveSignIn } from './errors.js';
import { FileOAuthProvider } from './provider.js';
import { TokenFile } from './tokenFile.js';

/** How long before its expiry an access token is refreshed. */
export const REFRESH_MARGIN_MS = 60_000;

type Env = Readonly<Record<string, string | undefined>>;

/** One remote server's sign-in as its transport uses it. */
export interface RemoteSignIn {
  provider: FileOAuthProvider;
  /** Refreshes the access token if it expires within {@link REFRESH_MARGIN_MS}; one refresh at a time. */
  freshen(): Promise<void>;
  /** `error` as a SignInRequiredError when it means the server wants a new sign-in; else unchanged. */
  translate(error: unknown): Promise<unknown>;
}

/** Creates the background sign-in of `spec` (a `url` server), with its state in `stateDir`. */
export function createRemoteSignIn({
  spec,
  stateDir,
  now = Date.now,
  env = process.env,
}: {
  spec: ServerSpec;
  stateDir: string;
  now?: () => number;
  env?: Env;
}): RemoteSignIn {
  const file = new TokenFile({ stateDir, server: spec.name, url: spec.url as string, now });
  // What `automcp login` runs, started by the gateway when the calling client can show the URL.
  const interactive: InteractiveSignIn = async ({ onUrl, signal }) => {
    const { signIn } = await import('./login.js');
    await signIn({ spec, stateDir, now, env, signal, onAuthorizationUrl: (url) => onUrl(url) });
  };
  const provider = new FileOAuthProvider({
    interactive,
    server: spec.name,
    file,
    mode: 'background',
    now,
    env,
    ...(spec.oauth ? { oauth: spec.oauth } : {}),
  });
  let freshening: Promise<void> | undefined;

  const expiring = async (): Promise<boolean> => {
    const tokens = (await provider.record()).tokens;
    return (
      tokens?.refresh_token !== undefined && tokens.expires_at !== undefined && tokens.expires_at - now() < REFRESH_MARGIN_MS
    );
  };

  const refresh = async (): Promise<void> => {
    if (!(await expiring())) return;
    // Gateways share the file: under its lock, the first refreshes and the others find fresh tokens.
    await provider.withLock(async () => {
      if (!(await expiring())) return;
      await auth(provider, {
        serverUrl: spec.url as string,
        ...(spec.oauth?.scopes ? { scope: spec.oauth.scopes.join(' ') } : {}),
        ...(spec.headers ? { fetchFn: fetchWithHeaders(spec.headers) } : {}),
      });
    });
  };

  return {
    provider,
    freshen() {
      freshening ??= refresh().finally(() => {
        freshening = undefined;
      });
      return freshening;
    },
    async translate(error) {
      if (signInRequired(error) || !isUnauthorized(error)) return error;
      return new SignInRequiredError({
        server: spec.name,
        detail: 'the server refused the stored sign-in',
        mark: await file.signature(),
        watch: file,
        cause: error,
        interactive,
      });
    },
  };
}

/** `fetch` that adds a server's configured headers (an API gateway's key, say), as its transport does. */
export function fetchWithHeaders(headers: Record<string, string>): FetchLike {
  return (url, init) => {
    const merged = new Headers(headers);
    for (const [key, value] of new Headers(init?.headers)) merged.set(key, value);
    return fetch(url, { ...init, headers: merged });
  };
}
