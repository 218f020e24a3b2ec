/**
 * Globs over qualified tool names. `*` matches any run of characters (dots included, so `*.delete_*`
 * reaches every server) and `?` one character; everything else is literal. Deliberately smaller than
 * shell globs: profile rules are permissions, and a rule should mean exactly what it looks like.
 *
 * The gateway's own tools (`automcp.*`, CONTRACT §2) fail closed: an allow glob reaches them only when
 * it starts with `automcp.`, so `allow: ['*']` or `['*.list_*']` never grants them by accident.
 */

/** The reserved server name of the gateway's own tools, and the prefix of their qualified names. */
export const BUILTIN_SERVER = 'automcp';
const BUILTIN_PREFIX = `${BUILTIN_SERVER}.`;

const cache = new Map<string, RegExp>();

/** Compiles a glob to an anchored RegExp (cached). */
export function globToRegExp(glob: string): RegExp {
  let regex = cache.get(glob);
  if (!regex) {
    const body = [...glob]
      .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
      .join('');
    regex = new RegExp(`^${body}$`, 's');
    cache.set(glob, regex);
  }
  return regex;
}

/** True when `name` matches any of `globs`. */
export function matchesAny(name: string, globs: readonly string[]): boolean {
  return globs.some((glob) => globToRegExp(glob).test(name));
}

/**
 * True when an allow list grants `name`. Like {@link matchesAny}, except that the gateway's own tools
 * are matched only by globs that name them (start with `automcp.`). Deny lists use plain
 * {@link matchesAny}: a broad deny still denies, which is the closed direction.
 */
export function allowsName(name: string, globs: readonly string[]): boolean {
  if (!name.startsWith(BUILTIN_PREFIX)) return matchesAny(name, globs);
  return globs.some((glob) => glob.startsWith(BUILTIN_PREFIX) && globToRegExp(glob).test(name));
}
