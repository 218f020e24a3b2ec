/**
 * The `.env` file beside runtime.yaml: where `automcp import` puts secrets so runtime.yaml holds only
 * `${VAR}` references. Its values feed `${VAR}` expansion in runtime.yaml; the process environment wins
 * over it, so an exported variable always overrides the file. Nothing here is passed to child processes
 * except through those references.
 */

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses `.env` text: `NAME=value`, `export NAME=value`, `#` comments, single or double quotes. */
export function parseDotenv(text: string): { values: Map<string, string>; problems: string[] } {
  const values = new Map<string, string>();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (/^\s*(#.*)?$/.test(line)) return;
    const match = LINE.exec(line);
    if (!match) {
      problems.push(`line ${index + 1}: expected NAME=value`);
      return;
    }
    const [, name, raw] = match as unknown as [string, string, string];
    values.set(name, unquote(raw));
  });
  return { values, problems };
}

function unquote(raw: string): string {
  if (raw.startsWith("'") && raw.endsWith("'") && raw.length >= 2) return raw.slice(1, -1);
  if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) {
    return raw.slice(1, -1).replace(/\\([\\"nrt$])/g, (_, char: string) => ({ n: '\n', r: '\r', t: '\t' })[char] ?? char);
  }
  // Unquoted: a ` #` starts a comment, as in shells.
  return raw.replace(/\s+#.*$/, '');
}

/** One `NAME=value` line; quoted (and escaped) when the value would not survive unquoted. */
export function formatDotenvLine(name: string, value: string): string {
  if (!NAME.test(name)) throw new Error(`not a valid variable name: ${name}`);
  if (/^[A-Za-z0-9_./:@%+,=-]*$/.test(value)) return `${name}=${value}`;
  const escaped = value
    .replace(/[\\"$]/g, (char) => `\\${char}`)
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t');
  return `${name}="${escaped}"`;
}
