/**
 * Which remote servers sign in, and where each one's sign-in stands — for `automcp status` and
 * `check`, read from the token files without contacting anything and without loading the SDK's OAuth
 * code. Never returns a token.
 */
import type { ServerSpec } from '../config/load.js';
import { loginCommand } from './errors.js';
import { TokenFile } from './tokenFile.js';

/** True when `spec` is a remote server whose credentials come from a sign-in, not a configured header. */
export function usesSignIn(spec: ServerSpec): boolean {
  if (spec.url === undefined) return false;
  if (spec.oauth !== undefined) return true;
  return !Object.keys(spec.headers ?? {}).some((key) => key.toLowerCase() === 'authorization');
}

/**
 * One server's sign-in: `signed-in` (with when the access token expires, and whether it renews itself),
 * `needs-sign-in` (signed in once, but the tokens expired for good or the server refused them), or
 * `not-signed-in` (never; fine for servers that do not ask for it).
 */
export interface SignInState {
  server: string;
  state: 'signed-in' | 'needs-sign-in' | 'not-signed-in';
  /** When the access token expires (ISO 8601), if the server said. */
  expiresAt?: string;
  /** True when a refresh token renews the access token without the person. */
  renews?: boolean;
  scopes?: string;
  /** Why sign-in is needed again. */
  reason?: string;
  /** What to run, when something is needed. */
  command?: string;
}

/** The sign-in state of `spec` in `stateDir` at `now`. */
export async function readSignInState({
  spec,
  stateDir,
  now = Date.now(),
}: {
  spec: ServerSpec;
  stateDir: string;
  now?: number;
}): Promise<SignInState> {
  const record = await new TokenFile({ stateDir, server: spec.name, url: spec.url as string }).read();
  const tokens = record.tokens;
  if (!tokens) {
    if (record.lostReason !== undefined)
      return { server: spec.name, state: 'needs-sign-in', reason: record.lostReason, command: loginCommand(spec.name) };
    return { server: spec.name, state: 'not-signed-in', command: loginCommand(spec.name) };
  }
  const renews = tokens.refresh_token !== undefined;
  const expiresAt = tokens.expires_at !== undefined ? new Date(tokens.expires_at).toISOString() : undefined;
  const base = {
    server: spec.name,
    renews,
    ...(expiresAt ? { expiresAt } : {}),
    ...(tokens.scope ? { scopes: tokens.scope } : {}),
  };
  if (!renews && tokens.expires_at !== undefined && tokens.expires_at <= now) {
    return { ...base, state: 'needs-sign-in', reason: 'the sign-in expired', command: loginCommand(spec.name) };
  }
  return { ...base, state: 'signed-in' };
}

/** One line for a person: "signed in, expires at …" / "needs sign-in: run automcp login NAME". */
export function describeSignIn(state: SignInState): string {
  if (state.state === 'signed-in') {
    const expiry = state.expiresAt ? `, token expires at ${state.expiresAt}${state.renews ? ' (renews itself)' : ''}` : '';
    return `signed in${state.scopes ? ` (scopes: ${state.scopes})` : ''}${expiry}`;
  }
  if (state.state === 'needs-sign-in') return `needs sign-in (${state.reason}): run ${state.command}`;
  return `not signed in (if it asks for sign-in, run ${state.command})`;
}

/** The sign-in state of every enabled server in `servers` that signs in, by name. */
export async function readSignInStates({
  servers,
  stateDir,
  now = Date.now(),
}: {
  servers: readonly ServerSpec[];
  stateDir: string;
  now?: number;
}): Promise<Map<string, SignInState>> {
  const remote = servers.filter((spec) => spec.enabled !== false && usesSignIn(spec));
  const states = await Promise.all(remote.map((spec) => readSignInState({ spec, stateDir, now })));
  return new Map(states.map((state) => [state.server, state]));
}
