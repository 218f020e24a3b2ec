/**
 * The small parts of sign-in: the `oauth` keys of a server entry (errors name the key and the fix),
 * how `$BROWSER` and the platform pick the opener, the loopback callback's checks (state, refusal,
 * timeout), and the expiry bookkeeping and status lines.
 */
import { describe, expect, it } from 'vitest';
import { describeSignIn } from '../../src/auth/signInState.js';
import { startLoopbackCallback } from '../../src/auth/loopback.js';
import { openerCommand } from '../../src/auth/opener.js';
import { presentTokens, stampExpiry } from '../../src/auth/tokenFile.js';
import { parseRuntime } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

function problems(servers: Record<string, unknown>): readonly string[] {
  try {
    parseRuntime({ file: '/tmp/automcp/runtime.yaml', text: JSON.stringify({ version: 1, servers }), env: {} });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('the oauth keys of a server entry', () => {
  it('accepts a configured client, scopes and a fixed callback port on a url server', () => {
    const config = parseRuntime({
      file: '/tmp/automcp/runtime.yaml',
      text: JSON.stringify({
        version: 1,
        servers: {
          tracker: {
            url: 'https://tracker.example/mcp',
            oauth: { clientId: 'abc', clientSecretEnv: 'TRACKER_SECRET', scopes: ['read'], callbackPort: '8765' },
          },
        },
      }),
      env: {},
    });
    expect(config.servers[0]?.oauth).toEqual({
      clientId: 'abc',
      clientSecretEnv: 'TRACKER_SECRET',
      scopes: ['read'],
      callbackPort: 8765,
    });
  });

  it('names the key and the fix when the entry is wrong', () => {
    expect(problems({ local: { command: 'x', oauth: { scopes: ['a'] } } }).join('\n')).toMatch(
      /servers\.local\.oauth.*applies only to HTTP servers/,
    );
    expect(
      problems({ r: { url: 'https://r.example/mcp', headers: { authorization: 'Bearer x' }, oauth: { clientId: 'a' } } }).join(
        '\n',
      ),
    ).toMatch(/servers\.r\.oauth.*Authorization.*keep one/);
    expect(problems({ r: { url: 'https://r.example/mcp', oauth: { clientSecretEnv: 'S' } } }).join('\n')).toMatch(
      /servers\.r\.oauth\.clientSecretEnv.*needs `clientId`/,
    );
    expect(problems({ r: { url: 'https://r.example/mcp', oauth: { clientID: 'a' } } }).join('\n')).toMatch(
      /servers\.r\.oauth.*"clientID"/,
    );
    expect(problems({ r: { url: 'https://r.example/mcp', oauth: { callbackPort: 70000 } } }).join('\n')).toMatch(
      /servers\.r\.oauth\.callbackPort/,
    );
    expect(
      problems({ r: { url: 'https://r.example/mcp', oauth: { clientSecretEnv: 'not a name', clientId: 'a' } } }).join('\n'),
    ).toMatch(/servers\.r\.oauth\.clientSecretEnv.*environment variable/);
  });
});

describe('opening the browser', () => {
  const url = 'https://as.example/authorize?x=1';

  it('uses $BROWSER first: its first entry, with the URL at %s or appended', () => {
    expect(openerCommand(url, { env: { BROWSER: 'firefox' }, platform: 'linux' })).toEqual(['firefox', url]);
    expect(openerCommand(url, { env: { BROWSER: 'w3m -o x %s:lynx' }, platform: 'linux' })).toEqual(['w3m', '-o', 'x', url]);
  });

  it("falls back to the platform's opener", () => {
    expect(openerCommand(url, { env: {}, platform: 'linux' })).toEqual(['xdg-open', url]);
    expect(openerCommand(url, { env: {}, platform: 'darwin' })).toEqual(['open', url]);
    expect(openerCommand(url, { env: {}, platform: 'win32' })).toEqual(['rundll32', 'url.dll,FileProtocolHandler', url]);
  });
});

describe('the loopback callback', () => {
  it('listens on 127.0.0.1 only, ignores a redirect with the wrong state, and takes the right one', async () => {
    let state: string | undefined;
    const callback = await startLoopbackCallback({ timeoutMs: 10_000, expectedState: () => state });
    try {
      expect(callback.redirectUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
      // Before an authorization request was made, no redirect is ours.
      expect((await fetch(`${callback.redirectUrl}?code=early&state=`)).status).toBe(400);
      state = 'expected-state';
      const code = callback.waitForCode();
      const forged = await fetch(`${callback.redirectUrl}?code=evil&state=other`);
      expect(forged.status).toBe(400);
      const real = await fetch(`${callback.redirectUrl}?code=good&state=expected-state`);
      expect(real.status).toBe(200);
      await expect(code).resolves.toBe('good');
    } finally {
      await callback.close();
    }
  });

  it('reports a refusal from the authorization server, and gives up after its timeout', async () => {
    const refused = await startLoopbackCallback({ timeoutMs: 10_000, expectedState: () => 's' });
    try {
      const outcome = expect(refused.waitForCode()).rejects.toThrow(
        'the authorization server refused the sign-in: access_denied (user said no)',
      );
      await fetch(`${refused.redirectUrl}?error=access_denied&error_description=user+said+no`);
      await outcome;
    } finally {
      await refused.close();
    }
    const abandoned = await startLoopbackCallback({ timeoutMs: 20, expectedState: () => 's' });
    try {
      await expect(abandoned.waitForCode()).rejects.toThrow(/no sign-in arrived within 0 s; run the command again/);
    } finally {
      await abandoned.close();
    }
  });
});

describe('expiry bookkeeping', () => {
  it('stores when the access token expires by the clock, and gives the SDK the time left', () => {
    const stored = stampExpiry({ access_token: 'a', token_type: 'bearer', expires_in: 600, refresh_token: 'r' }, 1_000_000);
    expect(stored).toEqual({ access_token: 'a', token_type: 'bearer', refresh_token: 'r', expires_at: 1_600_000 });
    expect(presentTokens(stored, 1_300_000)).toMatchObject({ expires_in: 300 });
    expect(presentTokens(stored, 2_000_000)).toMatchObject({ expires_in: 0 });
  });

  it('describes each state in one line, with the command where one is needed', () => {
    expect(
      describeSignIn({ server: 's', state: 'signed-in', expiresAt: '2027-01-01T00:00:00.000Z', renews: false, scopes: 'read' }),
    ).toBe('signed in (scopes: read), token expires at 2027-01-01T00:00:00.000Z');
    expect(
      describeSignIn({ server: 's', state: 'needs-sign-in', reason: 'the sign-in expired', command: 'automcp login s' }),
    ).toBe('needs sign-in (the sign-in expired): run automcp login s');
  });
});
