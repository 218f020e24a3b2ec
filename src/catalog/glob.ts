/**
 * Globs over qualified tool names. `*` matches any run of characters (dots included, so `*.delete_*`
 * reaches every server) and `?` one character; everything else is literal. Deliberately smaller than
 * shell globs: profile rules are permissions, and a rule should mean exactly what it looks like.
 */

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
