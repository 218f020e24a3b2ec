/**
 * One sign-in to a remote server, as `automcp login` runs it: ask the server what it wants (its 401
 * names the protected-resource metadata and scope), then let the SDK's `auth()` discover the
 * authorization server, register a client (unless one is configured), and build the authorization URL
 * with PKCE; open it, wait for the loopback redirect, and exchange the code. The tokens land in the
 * server's token file, where running gateways pick them up on their next call.
 */
import { auth, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { ServerSpec } from '../config/load.js';
import { startLoopbackCallback } from './loopback.js';
import { FileOAuthProvider } from './provider.js';
import { fetchWithHeaders } from './remote.js';
import { TokenFile } from './tokenFile.js';

/** Default wait for the person to finish in the browser. */
export const DEFAULT_LOGIN_TIMEOUT_MS = 300_000;

type Env = Readonly<Record<string, string | undefined>>;

/** What a finished sign-in reports. Never the tokens themselves. */
export interface SignInResult {
  server: string;
  /** The scopes the authorization server granted, when it said; else undefined. */
  scopes?: string;
  /** The scopes asked for. */
  requested?: string;
  expiresAt?: string;
  renews: boolean;
  /** The token file. */
  file: string;
}

/** Options of {@link signIn}. */
export interface SignInOptions {
  spec: ServerSpec;
  stateDir: string;
  /** Called with the authorization URL: print it, open the browser. */
  onAuthorizationUrl: (url: URL, redirectUrl: string) => void | Promise<void>;
  timeoutMs?: number;
  /** Ends the wait for the browser (the person declined, or the call that offered sign-in ended). */
  signal?: AbortSignal;
  now?: () => number;
  env?: Env;
}

/** Signs in to `spec` (a `url` server) and stores the tokens; throws with what went wrong. */
export async function signIn({
  spec,
  stateDir,
  onAuthorizationUrl,
  timeoutMs = DEFAULT_LOGIN_TIMEOUT_MS,
  signal,
  now = Date.now,
  env = process.env,
}: SignInOptions): Promise<SignInResult> {
  const serverUrl = spec.url as string;
  const file = new TokenFile({ stateDir, server: spec.name, url: serverUrl, now });
  const fetchFn = spec.headers ? fetchWithHeaders(spec.headers) : fetch;
  let provider: FileOAuthProvider | undefined;
  const callback = await startLoopbackCallback({
    expectedState: () => provider?.expectedState,
    timeoutMs,
    ...(spec.oauth?.callbackPort ? { port: spec.oauth.callbackPort } : {}),
  });
  try {
    provider = new FileOAuthProvider({
      server: spec.name,
      file,
      mode: 'login',
      now,
      env,
      redirectUrl: callback.redirectUrl,
      onAuthorizationUrl: (url) => onAuthorizationUrl(url, callback.redirectUrl),
      ...(spec.oauth ? { oauth: spec.oauth } : {}),
    });
    // A login starts clean: discovery again, and without a configured client a registration for this
    // redirect URI (its port is new each time). The old tokens stay until the new ones arrive.
    await file.update(({ client: _client, discovery: _discovery, ...rest }) => rest);
    const hint = await probe(serverUrl, fetchFn);
    const scope = spec.oauth?.scopes?.join(' ') ?? hint.scope;
    const options = {
      serverUrl,
      fetchFn,
      ...(scope ? { scope } : {}),
      ...(hint.resourceMetadataUrl ? { resourceMetadataUrl: hint.resourceMetadataUrl } : {}),
    };
    const started = await auth(provider, options).catch((error: unknown) => {
      // Discovery or registration failing against a server that answered without credentials usually
      // means there is nothing to sign in to.
      if (hint.open)
        throw new Error(`${(error as Error).message} (the server answered without sign-in; it may not need any)`, {
          cause: error,
        });
      throw error;
    });
    if (started !== 'REDIRECT') throw new Error('the authorization server did not start a sign-in');
    const code = await callback.waitForCode(signal);
    await auth(provider, { ...options, authorizationCode: code });
    const tokens = (await file.read()).tokens;
    if (!tokens) throw new Error('the authorization server returned no tokens');
    return {
      server: spec.name,
      ...(tokens.scope ? { scopes: tokens.scope } : {}),
      ...(scope ? { requested: scope } : {}),
      ...(tokens.expires_at !== undefined ? { expiresAt: new Date(tokens.expires_at).toISOString() } : {}),
      renews: tokens.refresh_token !== undefined,
      file: file.path,
    };
  } finally {
    await callback.close();
  }
}

/**
 * Sends the server an `initialize` without credentials: a server that wants sign-in answers 401 and its
 * WWW-Authenticate header may name the resource metadata and the scope it needs (MCP authorization
 * spec). Anything else leaves discovery to the well-known URLs.
 */
async function probe(
  serverUrl: string,
  fetchFn: FetchLike,
): Promise<{ resourceMetadataUrl?: URL; scope?: string; open?: boolean }> {
  const body = {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'automcp', version: '0' } },
  };
  try {
    const response = await fetchFn(serverUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(body),
    });
    await response.body?.cancel();
    if (response.status !== 401) return { open: response.ok };
    const { resourceMetadataUrl, scope } = extractWWWAuthenticateParams(response);
    return { ...(resourceMetadataUrl ? { resourceMetadataUrl } : {}), ...(scope ? { scope } : {}) };
  } catch {
    return {};
  }
}
