/**
 * Sign-in to a protected remote server, end to end over 127.0.0.1 with no other network: `signIn`
 * (what `automcp login` runs) against the SDK-built authorization server with a browser that approves
 * at once, then a downstream connection that uses the stored tokens, refreshes them before they expire
 * (injected clock) or after a 401, and parks the server as "needs sign-in" when the refresh token is
 * revoked — without retrying it until a new sign-in lands in the token file.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signIn } from '../../src/auth/login.js';
import { readSignInState } from '../../src/auth/signInState.js';
import { TokenFile, tokenFilePath } from '../../src/auth/tokenFile.js';
import type { ServerSpec } from '../../src/config/load.js';
import { DownstreamConnection } from '../../src/downstream/connection.js';
import { createTransportFactory } from '../../src/downstream/transport.js';
import { GatewayError } from '../../src/errors.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { startProtectedServer, type ProtectedServer } from '../fixtures/oauth/protectedServer.js';

let stateDir: string;
let server: ProtectedServer | undefined;
let connection: DownstreamConnection | undefined;
let clock = 1_800_000_000_000;
const now = () => clock;

/** The test browser: follows the authorization URL's redirects, which end at the loopback callback. */
const approve = async (url: URL) => {
  await fetch(url);
};

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'automcp-oauth-'));
  clock = 1_800_000_000_000;
});

afterEach(async () => {
  await connection?.close();
  connection = undefined;
  await server?.close();
  server = undefined;
  await rm(stateDir, { recursive: true, force: true });
});

function remote(url: string, extra: Partial<ServerSpec> = {}): ServerSpec {
  return { name: 'tracker', url, ...extra } as ServerSpec;
}

function connect(spec: ServerSpec, env: Record<string, string> = {}): DownstreamConnection {
  const logger = createSilentLogger();
  connection = new DownstreamConnection({
    spec,
    logger,
    transports: createTransportFactory({ logger, cwd: stateDir, signIn: { stateDir, now, env } }),
    onTools: () => undefined,
    now,
    // Backoff waits would be real sleeps; nothing here should wait anyway.
    sleep: async () => undefined,
  });
  return connection;
}

async function echo(target: DownstreamConnection, text: string): Promise<string> {
  const result = await target.call({ tool: 'echo', arguments: { text }, timeoutMs: 10_000 });
  return (result.content[0] as { text: string }).text;
}

describe('signing in to a remote server', () => {
  it('registers, signs in with PKCE through the loopback redirect, and stores the tokens in a 0600 file', async () => {
    server = await startProtectedServer({ now });
    const spec = remote(server.url);
    let seen: URL | undefined;
    const result = await signIn({
      spec,
      stateDir,
      now,
      onAuthorizationUrl: async (url) => {
        seen = url;
        await approve(url);
      },
    });
    expect(seen?.searchParams.get('code_challenge_method')).toBe('S256');
    expect(seen?.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(result.scopes).toBe('tools:read tools:call');
    expect(result.renews).toBe(true);
    expect(result.expiresAt).toBe(new Date(clock + 3600_000).toISOString());
    expect(server.registered).toHaveLength(1);

    const file = tokenFilePath(stateDir, 'tracker');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(stateDir, 'oauth'))).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(await readFile(file, 'utf8')) as { tokens: { access_token: string; expires_at: number } };
    expect(stored.tokens.access_token).toBe(server.issued[0]);
    expect(stored.tokens.expires_at).toBe(clock + 3600_000);
    expect(await readSignInState({ spec, stateDir, now: clock })).toMatchObject({ state: 'signed-in', renews: true });

    const target = connect(spec);
    expect((await target.refreshTools()).map((tool) => tool.name)).toEqual(['echo']);
    expect(await echo(target, 'hi')).toBe('echo: hi');
  });

  it('refreshes the access token shortly before it expires, and after a 401', async () => {
    server = await startProtectedServer({ now, accessTtlSeconds: 600 });
    const spec = remote(server.url);
    await signIn({ spec, stateDir, now, onAuthorizationUrl: approve });
    const target = connect(spec);
    expect(await echo(target, 'one')).toBe('echo: one');
    expect(server.grants).toEqual(['authorization_code']);

    // 30 s before expiry: inside the refresh margin, so the token is renewed before the request.
    clock += 570_000;
    expect(await echo(target, 'two')).toBe('echo: two');
    expect(server.grants).toEqual(['authorization_code', 'refresh_token']);
    const renewed = JSON.parse(await readFile(tokenFilePath(stateDir, 'tracker'), 'utf8')) as { tokens: { expires_at: number } };
    expect(renewed.tokens.expires_at).toBe(clock + 600_000);

    // The server drops the access token early: the 401 makes the SDK refresh, and the call goes through.
    server.expireAccessTokens();
    expect(await echo(target, 'three')).toBe('echo: three');
    expect(server.grants).toEqual(['authorization_code', 'refresh_token', 'refresh_token']);
  });

  it('treats a refresh the authorization server could not answer as a failed call, keeping the sign-in', async () => {
    server = await startProtectedServer({ now, accessTtlSeconds: 600 });
    const spec = remote(server.url);
    await signIn({ spec, stateDir, now, onAuthorizationUrl: approve });
    const target = connect(spec);
    expect(await echo(target, 'one')).toBe('echo: one');

    clock += 570_000;
    server.failRefresh = true;
    await expect(target.call({ tool: 'echo', arguments: { text: 'two' }, timeoutMs: 10_000 })).rejects.toMatchObject({
      code: 'DOWNSTREAM_ERROR',
      message: expect.stringContaining('could not renew the sign-in of server "tracker"'),
    });
    expect(target.state).toBe('up');
    expect(await readSignInState({ spec, stateDir, now: clock })).toMatchObject({ state: 'signed-in' });

    server.failRefresh = false;
    expect(await echo(target, 'three')).toBe('echo: three');
    expect(server.grants).toEqual(['authorization_code', 'refresh_token']);
  });

  it('parks a server whose refresh token was revoked as needing sign-in, without retrying it, until a new login', async () => {
    server = await startProtectedServer({ now });
    const spec = remote(server.url);
    await signIn({ spec, stateDir, now, onAuthorizationUrl: approve });
    const target = connect(spec);
    expect(await echo(target, 'before')).toBe('echo: before');

    server.revokeAll();
    const failure = await target
      .call({ tool: 'echo', arguments: { text: 'x' }, timeoutMs: 10_000 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GatewayError);
    expect((failure as GatewayError).toPayload()).toMatchObject({
      error: { code: 'DOWNSTREAM_UNAVAILABLE' },
      server: 'tracker',
      reason: 'sign-in required',
      command: 'automcp login tracker',
    });
    expect(target.state).toBe('needs-sign-in');
    expect(target.retryDue()).toBe(false);
    expect(await readSignInState({ spec, stateDir, now: clock })).toMatchObject({
      state: 'needs-sign-in',
      command: 'automcp login tracker',
    });

    // Parked: the next call fails at once, without contacting the server.
    const requests = server.mcpRequests;
    await expect(target.call({ tool: 'echo', arguments: { text: 'y' }, timeoutMs: 10_000 })).rejects.toMatchObject({
      data: { reason: 'sign-in required' },
    });
    expect(server.mcpRequests).toBe(requests);

    await signIn({ spec, stateDir, now, onAuthorizationUrl: approve });
    expect(await echo(target, 'after')).toBe('echo: after');
    expect(target.state).toBe('up');
  });

  it('reports a server nobody signed in to as needing sign-in, and registers no client on its own', async () => {
    server = await startProtectedServer({ now });
    const target = connect(remote(server.url));
    await expect(target.ensureAvailable()).rejects.toMatchObject({
      code: 'DOWNSTREAM_UNAVAILABLE',
      data: { server: 'tracker', reason: 'sign-in required', command: 'automcp login tracker' },
    });
    expect(target.state).toBe('needs-sign-in');
    expect(server.registered).toHaveLength(0);
    // What the attempt wrote (discovery) does not count as a new sign-in: the next call fails at once.
    const requests = server.mcpRequests;
    await expect(target.ensureAvailable()).rejects.toMatchObject({ data: { reason: 'sign-in required' } });
    expect(server.mcpRequests).toBe(requests);
  });

  it('uses a configured client and secret where the authorization server has no dynamic registration', async () => {
    const client = {
      client_id: 'automcp-desktop',
      client_secret: 's3cret-value',
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
    };
    server = await startProtectedServer({ now, registration: false, clients: [client] });
    const spec = remote(server.url, {
      oauth: { clientId: 'automcp-desktop', clientSecretEnv: 'TRACKER_SECRET', scopes: ['tools:read'] },
    });
    const env = { TRACKER_SECRET: 's3cret-value' };
    const result = await signIn({ spec, stateDir, now, env, onAuthorizationUrl: approve });
    expect(result.scopes).toBe('tools:read');
    const stored = await readFile(tokenFilePath(stateDir, 'tracker'), 'utf8');
    // The secret stays in the environment; the file holds only what the server issued.
    expect(stored).not.toContain('s3cret-value');
    expect(await echo(connect(spec, env), 'configured')).toBe('echo: configured');

    await expect(signIn({ spec, stateDir, now, env: {}, onAuthorizationUrl: approve })).rejects.toThrow(
      /oauth\.clientSecretEnv names TRACKER_SECRET, which is not set/,
    );
  });
});

describe('two gateways sharing one sign-in', () => {
  it('refresh a rotating refresh token once between them, and both keep working', async () => {
    server = await startProtectedServer({ now, accessTtlSeconds: 600 });
    const spec = remote(server.url);
    await signIn({ spec, stateDir, now, onAuthorizationUrl: approve });
    const first = connect(spec);
    const second = new DownstreamConnection({
      spec,
      logger: createSilentLogger(),
      transports: createTransportFactory({ logger: createSilentLogger(), cwd: stateDir, signIn: { stateDir, now } }),
      onTools: () => undefined,
      now,
      sleep: async () => undefined,
    });
    try {
      expect(await Promise.all([echo(first, 'a'), echo(second, 'b')])).toEqual(['echo: a', 'echo: b']);
      clock += 590_000;
      // Both see an expiring token at once; the file lock lets one refresh and the other read its result.
      expect(await Promise.all([echo(first, 'c'), echo(second, 'd')])).toEqual(['echo: c', 'echo: d']);
      expect(server.grants).toEqual(['authorization_code', 'refresh_token']);
      expect(first.state).toBe('up');
      expect(second.state).toBe('up');
    } finally {
      await second.close();
    }
  });
});

describe('signing out while a gateway runs', () => {
  it('parks the server on its next call, with the command to sign in again', async () => {
    server = await startProtectedServer({ now });
    const spec = remote(server.url);
    await signIn({ spec, stateDir, now, onAuthorizationUrl: approve });
    const target = connect(spec);
    expect(await echo(target, 'before')).toBe('echo: before');
    // What `automcp logout` does; the access token itself is still valid at the server.
    expect(await new TokenFile({ stateDir, server: 'tracker', url: server.url }).remove()).toBe(true);
    await expect(target.call({ tool: 'echo', arguments: { text: 'after' }, timeoutMs: 10_000 })).rejects.toMatchObject({
      code: 'DOWNSTREAM_UNAVAILABLE',
      data: { reason: 'sign-in required', command: 'automcp login tracker' },
    });
    expect(target.state).toBe('needs-sign-in');
  });
});
