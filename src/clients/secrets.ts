/**
 * Which values of an imported server are secrets, and moving them to `.env`: runtime.yaml keeps a
 * `${VAR}` reference, the value goes to the `.env` file beside it (mode 0600).
 */
import { variableName } from './entries.js';
import type { ServerEntry } from './types.js';

const SECRET_NAME =
  /(^|[_-])(api[_-]?key|apikey|key|token|secret|password|passwd|pwd|auth|authorization|credentials?|pat|cookie|session)($|[_-])/i;
const SECRET_VALUE =
  /^(sk-|sk_|rk_|pk_live|ghp_|gho_|ghs_|ghu_|github_pat_|glpat-|xox[abpr]-|AKIA|ASIA|AIza|eyJ|ya29\.|hf_|npm_|pplx-|lin_api_)/;

/** Does this env or header value look like a key or token? A value that is already a `${VAR}` reference is not. */
export function looksSecret(key: string, value: string): boolean {
  // Switches and numbers are settings, whatever the variable is called (DISABLE_AUTH=true, TOKEN_LIMIT=4000).
  if (value === '' || value.includes('${') || /^(true|false|yes|no|on|off|-?\d+(\.\d+)?)$/i.test(value)) return false;
  if (SECRET_NAME.test(key) || /^x-.*(key|token)$/i.test(key)) return true;
  if (SECRET_VALUE.test(value) || /^(Bearer|Basic|token)\s+\S{8,}/i.test(value)) return true;
  // A long run of letters and digits with no spaces or slashes: an opaque key more often than not.
  return value.length >= 32 && /^[A-Za-z0-9_\-+=.]+$/.test(value) && /[0-9]/.test(value) && /[A-Za-z]/.test(value);
}

/** The `.env` values known so far (read from the file) and those this import adds. */
export interface SecretJar {
  existing: ReadonlyMap<string, string>;
  added: Map<string, string>;
}

/** Replaces every secret in `entry.env` and `entry.headers` by a `${VAR}`; returns the variable names used. */
export function moveSecrets(server: string, entry: ServerEntry, jar: SecretJar): string[] {
  const used: string[] = [];
  const move = (key: string, value: string, prefer: string): string => {
    const scheme = /^(Bearer|Basic|token)\s+(\S.*)$/i.exec(value);
    const secret = scheme ? (scheme[2] as string) : value;
    const name = nameFor(secret, [prefer, `${variableName(server)}_${prefer}`], jar);
    jar.added.set(name, secret);
    used.push(name);
    return scheme ? `${scheme[1]} \${${name}}` : `\${${name}}`;
  };
  for (const field of ['env', 'headers'] as const) {
    const values = entry[field];
    if (values === undefined) continue;
    for (const [key, value] of Object.entries(values)) {
      if (!looksSecret(key, value)) continue;
      const prefer =
        field === 'env' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : `${variableName(server)}_${variableName(key)}`;
      values[key] = move(key, value, prefer);
    }
  }
  return used;
}

/** A variable name for `value`: the same name when it already holds this value, else the first free one. */
function nameFor(value: string, candidates: string[], jar: SecretJar): string {
  const holds = (name: string) => jar.added.get(name) ?? jar.existing.get(name);
  for (const name of candidates) {
    const current = holds(name);
    if (current === undefined || current === value) return name;
  }
  const base = candidates.at(-1) as string;
  for (let n = 2; ; n++) {
    const current = holds(`${base}_${n}`);
    if (current === undefined || current === value) return `${base}_${n}`;
  }
}
