/**
 * Who is calling over HTTP. With `callers` configured, every request to /mcp must carry
 * `Authorization: Bearer <token>`, and the token decides the caller and so its profile. Tokens are
 * compared as SHA-256 digests with `timingSafeEqual`, against every known digest, so neither the
 * comparison nor the search leaks how much of a token was right. Tokens are never kept or logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { loadProfile, type CallerSpec, type Profile, type RuntimeConfig } from '../config/load.js';
import { ConfigError, isConfigError } from '../errors.js';

/** A request's caller: its name (part of every session key) and profile. */
export interface Authenticated {
  caller: string;
  profile: Profile;
}

/** Why a request was refused: no bearer token, or one no caller holds. */
export type AuthFailure = 'missing_token' | 'invalid_token';

/** Maps an Authorization header to a caller. */
export interface CallerAuth {
  /** True when callers are configured, so every /mcp request needs a token. */
  readonly required: boolean;
  /** Caller names, for start-up logs. */
  readonly callers: readonly string[];
  authenticate(authorization: string | undefined): Authenticated | AuthFailure;
}

interface Credential {
  digest: Buffer;
  who: Authenticated;
}

/** SHA-256 of a token: what is stored and compared. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Builds the authenticator, failing closed: a caller whose profile does not exist, whose token
 * variable is unset, or whose token another caller also holds stops start-up with what to fix.
 * Without callers every request is `fallback` (the `--profile` of `serve`), named after that profile.
 */
export async function createCallerAuth({
  config,
  fallback,
  env = process.env,
}: {
  config: RuntimeConfig;
  fallback: Profile;
  env?: Readonly<Record<string, string | undefined>>;
}): Promise<CallerAuth> {
  const credentials: Credential[] = [];
  const problems: string[] = [];
  const owners = new Map<string, string>();
  for (const spec of config.callers) {
    const profile = await loadCallerProfile(config, spec, problems);
    const digests = [
      ...spec.tokenEnv.flatMap((name) => {
        const token = env[name];
        if (token === undefined || token.trim() === '') {
          problems.push(`callers.${spec.name}.tokenEnv: environment variable ${name} is not set (set it to this caller's token)`);
          return [];
        }
        return [tokenDigest(token.trim())];
      }),
      ...spec.tokenSha256.map((hex) => Buffer.from(hex, 'hex')),
    ];
    for (const digest of digests) {
      const owner = owners.get(digest.toString('hex'));
      if (owner !== undefined && owner !== spec.name) {
        problems.push(`callers.${spec.name}: holds the same token as caller "${owner}" (each token must name one caller)`);
      }
      owners.set(digest.toString('hex'), spec.name);
      if (profile) credentials.push({ digest, who: { caller: spec.name, profile } });
    }
  }
  if (problems.length > 0) throw new ConfigError(config.file, problems);

  if (config.callers.length === 0) {
    const who = { caller: fallback.name, profile: fallback };
    return { required: false, callers: [], authenticate: () => who };
  }
  return {
    required: true,
    callers: config.callers.map((spec) => spec.name),
    authenticate(authorization) {
      const token = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')?.[1];
      if (token === undefined) return 'missing_token';
      const digest = tokenDigest(token);
      let found: Authenticated | undefined;
      // Compare with every credential, never stopping early, so timing says nothing about which matched.
      for (const credential of credentials) {
        if (timingSafeEqual(digest, credential.digest)) found ??= credential.who;
      }
      return found ?? 'invalid_token';
    },
  };
}

async function loadCallerProfile(config: RuntimeConfig, spec: CallerSpec, problems: string[]): Promise<Profile | undefined> {
  try {
    return await loadProfile({ profilesDir: config.profilesDir, name: spec.profile });
  } catch (error) {
    if (!isConfigError(error)) throw error;
    problems.push(`callers.${spec.name}.profile: ${error.message}`);
    return undefined;
  }
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1' || bare === '::ffff:127.0.0.1';
}
