/**
 * The SDK's `OAuthClientProvider` for one remote server, backed by its token file (tokenFile.ts). The
 * SDK's `auth()` drives the spec's flow — discovery, dynamic client registration, authorization code
 * with PKCE, refresh — and calls back here to load and keep what it obtains.
 *
 * Two modes. `login` is `automcp login`: it may register a client, ignores the stored tokens (a login
 * means a new sign-in) and hands the authorization URL to the browser opener. `background` is a running
 * gateway: it uses and refreshes what a login stored, but never registers a client or starts a sign-in;
 * where the flow would need the person, it raises {@link SignInRequiredError} instead.
 */
import { randomBytes } from 'node:crypto';
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { OAuthConfig } from '../config/schema.js';
import { SignInRequiredError, type InteractiveSignIn } from './errors.js';
import { presentTokens, stampExpiry, type SignInRecord, type TokenFile } from './tokenFile.js';

/** Whether the provider serves `automcp login` or a running gateway. */
export type SignInMode = 'login' | 'background';

type Env = Readonly<Record<string, string | undefined>>;

/** The redirect URI a background provider names when it has none from a login (it never receives it). */
const NO_REDIRECT = 'http://127.0.0.1/callback';

/** Options of {@link FileOAuthProvider}. */
export interface FileOAuthProviderOptions {
  server: string;
  file: TokenFile;
  mode: SignInMode;
  /** `oauth` of the server entry: a pre-registered client and the scopes to ask for. */
  oauth?: OAuthConfig;
  /** Where `clientSecretEnv` is read from. */
  env?: Env;
  now?: () => number;
  /** Login only: the loopback URI the authorization server redirects back to. */
  redirectUrl?: string;
  /** Login only: what to do with the authorization URL (open the browser, print it). */
  onAuthorizationUrl?: (url: URL) => void | Promise<void>;
  /** Background only: the sign-in its SignInRequiredErrors offer (see offer.ts). */
  interactive?: InteractiveSignIn;
}

/** An OAuthClientProvider whose state lives in one 0600 file per server. */
export class FileOAuthProvider implements OAuthClientProvider {
  readonly #server: string;
  readonly #file: TokenFile;
  readonly #mode: SignInMode;
  readonly #oauth: OAuthConfig | undefined;
  readonly #env: Env;
  readonly #now: () => number;
  readonly #redirect: string | undefined;
  readonly #onAuthorizationUrl: ((url: URL) => void | Promise<void>) | undefined;
  readonly #interactive: InteractiveSignIn | undefined;
  /** The record as last read, for the synchronous getters. */
  #record: SignInRecord | undefined;
  #verifier: string | undefined;
  #state: string | undefined;
  /** Login: tokens of this sign-in only (the stored ones are ignored until it succeeds). */
  #loginTokens: OAuthTokens | undefined;
  /** The refresh token last handed to the SDK: only that one may be forgotten as refused. */
  #servedRefresh: string | undefined;
  /** True while a caller holds the file lock (a refresh), so writes must not take it again. */
  #held = false;

  constructor(options: FileOAuthProviderOptions) {
    this.#server = options.server;
    this.#file = options.file;
    this.#mode = options.mode;
    this.#oauth = options.oauth;
    this.#env = options.env ?? process.env;
    this.#now = options.now ?? Date.now;
    this.#redirect = options.redirectUrl;
    this.#onAuthorizationUrl = options.onAuthorizationUrl;
    this.#interactive = options.interactive;
  }

  get redirectUrl(): string {
    return this.#redirect ?? this.#record?.redirectUri ?? NO_REDIRECT;
  }

  get clientMetadata(): OAuthClientMetadata {
    const secret = this.#clientSecret();
    return {
      client_name: 'automcp',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: secret === undefined ? 'none' : 'client_secret_basic',
      ...(this.#oauth?.scopes ? { scope: this.#oauth.scopes.join(' ') } : {}),
    };
  }

  /** A fresh random `state` per authorization request; the callback must echo it. */
  state(): string {
    this.#state = randomBytes(16).toString('base64url');
    return this.#state;
  }

  /** The `state` of the authorization request in progress. */
  get expectedState(): string | undefined {
    return this.#state;
  }

  async clientInformation(): Promise<OAuthClientInformationMixed | undefined> {
    const clientId = this.#oauth?.clientId;
    if (clientId !== undefined) {
      const secret = this.#clientSecret();
      return { client_id: clientId, ...(secret !== undefined ? { client_secret: secret } : {}) };
    }
    const client = (await this.#read()).client;
    if (client === undefined && this.#mode === 'background') {
      // Registering a client is part of a sign-in, which only `automcp login` starts.
      throw await this.#signInError('not signed in');
    }
    return client;
  }

  async saveClientInformation(info: OAuthClientInformationMixed): Promise<void> {
    // A configured client comes from runtime.yaml every time; there is nothing to keep.
    if (this.#oauth?.clientId !== undefined) return;
    await this.#update((record) => ({ ...record, client: info }));
  }

  async tokens(): Promise<OAuthTokens | undefined> {
    if (this.#mode === 'login') return this.#loginTokens;
    const stored = (await this.#read()).tokens;
    this.#servedRefresh = stored?.refresh_token;
    return stored ? presentTokens(stored, this.#now()) : undefined;
  }

  async saveTokens(tokens: OAuthTokens): Promise<void> {
    if (this.#mode === 'login') this.#loginTokens = tokens;
    const stored = stampExpiry(tokens, this.#now());
    await this.#update((record) => {
      const { lostReason: _lost, ...rest } = record;
      // A refresh may omit the refresh token: the old one stays valid then (RFC 6749 §6).
      const refresh = stored.refresh_token ?? record.tokens?.refresh_token;
      return {
        ...rest,
        tokens: { ...stored, ...(refresh !== undefined ? { refresh_token: refresh } : {}) },
        ...(this.#redirect !== undefined ? { redirectUri: this.#redirect } : {}),
      };
    });
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    if (this.#mode === 'login' && this.#onAuthorizationUrl) return this.#onAuthorizationUrl(url);
    const record = await this.#read();
    if (record.tokens?.refresh_token !== undefined) {
      // The refresh token was not refused, so the refresh failed for another reason (the authorization
      // server did not answer): an ordinary failure that backs off and retries, not a lost sign-in.
      throw new Error(`could not renew the sign-in of server "${this.#server}": the authorization server did not answer`);
    }
    throw await this.#signInError(record.lostReason ?? (record.tokens ? 'the sign-in expired' : 'not signed in'));
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    if (this.#verifier === undefined) throw new Error('no sign-in in progress (no PKCE code verifier)');
    return this.#verifier;
  }

  async invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): Promise<void> {
    if (scope === 'verifier') {
      this.#verifier = undefined;
      return;
    }
    if (this.#mode === 'login' && (scope === 'tokens' || scope === 'all')) this.#loginTokens = undefined;
    await this.#update((record) => {
      const next = { ...record };
      if (scope === 'all' || scope === 'client') delete next.client;
      if (scope === 'all' || scope === 'discovery') delete next.discovery;
      // Another gateway may have refreshed meanwhile: only the refresh token that was refused goes.
      const refused = this.#mode === 'login' || next.tokens?.refresh_token === this.#servedRefresh;
      if ((scope === 'all' || scope === 'tokens') && refused && next.tokens) {
        delete next.tokens;
        next.lostReason = 'the server refused the stored sign-in';
      }
      return next;
    });
  }

  async discoveryState(): Promise<OAuthDiscoveryState | undefined> {
    return (await this.#read()).discovery;
  }

  async saveDiscoveryState(state: OAuthDiscoveryState): Promise<void> {
    await this.#update((record) => ({ ...record, discovery: state }));
  }

  /** Runs `work` holding the token file's lock; the provider's own writes inside it do not lock again. */
  async withLock<T>(work: () => Promise<T>): Promise<T> {
    return this.#file.locked(async () => {
      this.#held = true;
      try {
        return await work();
      } finally {
        this.#held = false;
      }
    });
  }

  /** The stored record, read now. */
  async record(): Promise<SignInRecord> {
    return this.#read();
  }

  #clientSecret(): string | undefined {
    const name = this.#oauth?.clientSecretEnv;
    if (name === undefined) return undefined;
    const value = this.#env[name];
    if (value === undefined || value === '') {
      throw new Error(
        `server "${this.#server}": oauth.clientSecretEnv names ${name}, which is not set; set it or remove the key`,
      );
    }
    return value;
  }

  async #read(): Promise<SignInRecord> {
    this.#record = await this.#file.read();
    return this.#record;
  }

  async #update(change: (record: SignInRecord) => SignInRecord): Promise<void> {
    this.#record = this.#held ? await this.#file.updateHeld(change) : await this.#file.update(change);
  }

  async #signInError(detail: string): Promise<SignInRequiredError> {
    return new SignInRequiredError({
      server: this.#server,
      detail,
      mark: await this.#file.signature(),
      watch: this.#file,
      ...(this.#interactive ? { interactive: this.#interactive } : {}),
    });
  }
}
