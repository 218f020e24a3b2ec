/**
 * `${VAR}` and `${VAR:-default}` expansion over every string value of a parsed YAML document.
 * Keys are left alone; `$${` writes a literal `${`. A variable that is unset and has no default is
 * an error naming the key path, because a silently empty token or path is worse than a clear stop.
 */

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Returns a copy of `value` with every string expanded; missing variables are added to `problems`. */
export function expandEnv(
  value: unknown,
  options: { env: Readonly<Record<string, string | undefined>>; problems: string[] },
): unknown {
  return expandAt(value, options.env, options.problems, []);
}

function expandAt(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
  path: readonly (string | number)[],
): unknown {
  if (typeof value === 'string') return expandString(value, env, problems, path);
  if (Array.isArray(value)) return value.map((item, index) => expandAt(item, env, problems, [...path, index]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = expandAt(item, env, problems, [...path, key]);
    return out;
  }
  return value;
}

function expandString(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
  path: readonly (string | number)[],
): string {
  return text.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    const name_ = name as string;
    const found = env[name_];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return expandString(fallback, env, problems, path);
    if (found === '') return '';
    problems.push(`${formatPath(path)}: environment variable ${name_} is not set (set it, or write \${${name_}:-default})`);
    return '';
  });
}

/** `servers.memory.env.X` style path for messages; `(root)` for the document itself. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((part, index) => {
      if (typeof part === 'number') return `[${part}]`;
      const key = String(part);
      // Keys that are not plain identifiers (a server named "my.server") are quoted to stay unambiguous.
      if (!/^[A-Za-z0-9_-]+$/.test(key)) return `[${JSON.stringify(key)}]`;
      return `${index === 0 ? '' : '.'}${key}`;
    })
    .join('');
}
