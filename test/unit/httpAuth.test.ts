/**
 * Callers and tokens: runtime.yaml validation of `callers`, token digests, several tokens per caller,
 * failing closed at start-up, and which addresses count as loopback.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseRuntime } from '../../src/config/load.js';
import { isConfigError } from '../../src/errors.js';
import { createCallerAuth, isLoopbackHost } from '../../src/http/auth.js';
import { makeProfile } from '../helpers/inprocess.js';
import { writeConfigDir } from '../helpers/config.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const runtime = (callers: unknown) =>
  parseRuntime({ file: '/tmp/automcp-auth/runtime.yaml', text: JSON.stringify({ version: 1, callers }), env: {} });

describe('callers in runtime.yaml', () => {
  it('normalises token sources to lists and digests to lower case', () => {
    const config = runtime({
      a: { profile: 'default', tokenEnv: 'TOKEN_A' },
      b: { profile: 'reader', tokenSha256: [sha256('x').toUpperCase(), sha256('y')], tokenEnv: ['B1', 'B2'] },
    });
    expect(config.callers).toEqual([
      { name: 'a', profile: 'default', tokenEnv: ['TOKEN_A'], tokenSha256: [] },
      { name: 'b', profile: 'reader', tokenEnv: ['B1', 'B2'], tokenSha256: [sha256('x'), sha256('y')] },
    ]);
    expect(runtime(undefined).callers).toEqual([]);
  });

  it('rejects a caller without a token, a bad digest, a bad name and unknown keys, saying where', () => {
    const error = (() => {
      try {
        runtime({
          a: { profile: 'default' },
          b: { profile: 'default', tokenSha256: 'abc' },
          'c d': { profile: 'x', tokenEnv: 'T' },
          e: { profile: 'default', token: 'plain' },
        });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(isConfigError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('callers.a: expected `tokenEnv`');
    expect(message).toContain('callers.b.tokenSha256');
    expect(message).toContain('"c d" is not a valid name');
    expect(message).toContain('unknown key "token"');
  });
});

describe('createCallerAuth', () => {
  it('maps each of a caller’s tokens to it, refuses others, and says why', async () => {
    const dir = await writeConfigDir({ runtime: { servers: {} }, profiles: { alpha: {}, beta: { tools: { allow: ['x.*'] } } } });
    try {
      const config = {
        ...runtime({
          alice: { profile: 'alpha', tokenEnv: ['T_OLD', 'T_NEW'] },
          bob: { profile: 'beta', tokenSha256: sha256('bob-token') },
        }),
        profilesDir: dir.profilesDir,
      };
      const auth = await createCallerAuth({
        config,
        fallback: makeProfile('default'),
        env: { T_OLD: 'old-token', T_NEW: ' new-token\n' },
      });
      expect(auth.required).toBe(true);
      expect(auth.callers).toEqual(['alice', 'bob']);
      const who = (header?: string) => {
        const result = auth.authenticate(header);
        return typeof result === 'string' ? result : `${result.caller}:${result.profile.name}`;
      };
      expect(who('Bearer old-token')).toBe('alice:alpha');
      expect(who('Bearer new-token')).toBe('alice:alpha');
      expect(who('bearer bob-token')).toBe('bob:beta');
      expect(who('Bearer bob-token-')).toBe('invalid_token');
      expect(who('Basic Ym9iOmJvYg==')).toBe('missing_token');
      expect(who(undefined)).toBe('missing_token');
      expect(who('Bearer ')).toBe('missing_token');
    } finally {
      await dir.cleanup();
    }
  });

  it('without callers, every request is the fallback profile', async () => {
    const auth = await createCallerAuth({ config: runtime(undefined), fallback: makeProfile('reader') });
    expect(auth.required).toBe(false);
    expect(auth.authenticate(undefined)).toMatchObject({ caller: 'reader', profile: { name: 'reader' } });
  });

  it('fails closed on unknown profiles, unset token variables and a token two callers share', async () => {
    const dir = await writeConfigDir({ runtime: { servers: {} }, profiles: { alpha: {} } });
    try {
      const config = {
        ...runtime({
          a: { profile: 'missing', tokenEnv: 'UNSET' },
          b: { profile: 'alpha', tokenSha256: sha256('shared-secret-value') },
          c: { profile: 'alpha', tokenEnv: 'SAME' },
        }),
        profilesDir: dir.profilesDir,
      };
      const failure = await createCallerAuth({
        config,
        fallback: makeProfile('default'),
        env: { SAME: 'shared-secret-value' },
      }).catch((error: unknown) => error);
      expect(isConfigError(failure)).toBe(true);
      const message = (failure as Error).message;
      expect(message).toContain('callers.a.profile');
      expect(message).toContain('callers.a.tokenEnv: environment variable UNSET is not set');
      expect(message).toContain('callers.c: holds the same token as caller "b"');
      expect(message).not.toContain('shared-secret-value');
    } finally {
      await dir.cleanup();
    }
  });
});

describe('isLoopbackHost', () => {
  it('accepts only addresses this machine alone reaches', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '128.0.0.1', 'localhost.example.com'])
      expect(isLoopbackHost(host)).toBe(false);
  });
});
