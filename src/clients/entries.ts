/**
 * Converting one client's server entry into a runtime.yaml entry. Clients spell the same things a few
 * ways (`type`, `serverUrl`, `${env:VAR}`); whatever has no counterpart in automcp is named in a warning,
 * never dropped silently.
 */
import type { ServerEntry } from './types.js';

/** Keys every JSON client shares, understood here. */
const COMMON = new Set(['command', 'args', 'env', 'cwd', 'url', 'type', 'headers', 'disabled']);
/** VS Code's predefined variables that have no meaning outside the editor (kept literally, with a warning). */
const VSCODE_VARIABLES = new Set(['workspaceFolder', 'workspaceFolderBasename', 'file', 'fileDirname', 'cwd', 'pathSeparator']);
const TYPES = new Set(['stdio', 'http', 'sse', 'streamable-http', 'streamableHttp']);

/** What a converter needs to know about where an entry came from. */
export interface EntryContext {
  /** `servers.github` etc., for messages. */
  where: string;
  /** The user's home, for `${userHome}`. */
  home: string;
  /** The workspace folder for `${workspaceFolder}` (VS Code project files), when known. */
  workspace?: string;
  /** VS Code `inputs` by id: their descriptions, for the warning. */
  inputs?: ReadonlyMap<string, string>;
  /** Keys this client has beyond {@link COMMON} that are known to have no automcp counterpart. */
  extraKeys?: ReadonlySet<string>;
}

/** A converted entry (absent when it cannot be imported), with warnings. */
export interface Converted {
  server?: ServerEntry;
  warnings: string[];
}

/** Converts a JSON client's entry (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf shapes). */
export function convertEntry(value: unknown, context: EntryContext): Converted {
  const warnings: string[] = [];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { warnings: [`${context.where}: not an object; skipped`] };
  }
  const raw = value as Record<string, unknown>;
  const unsupported = Object.keys(raw).filter((key) => !COMMON.has(key));
  if (unsupported.length > 0) {
    warnings.push(
      `${context.where}: ${unsupported.map((key) => `\`${key}\``).join(', ')} not imported (automcp has no such setting)`,
    );
  }
  const type = raw.type;
  if (type !== undefined && (typeof type !== 'string' || !TYPES.has(type))) {
    return {
      warnings: [
        ...warnings,
        `${context.where}: transport type ${JSON.stringify(type)} is not supported (stdio, http or sse); skipped`,
      ],
    };
  }
  const server: ServerEntry = {};
  const text = (input: unknown, key: string): string | undefined => {
    if (input === undefined || input === null) return undefined;
    if (typeof input !== 'string' && typeof input !== 'number' && typeof input !== 'boolean') {
      warnings.push(`${context.where}.${key}: not a string; not imported`);
      return undefined;
    }
    return normalizeVariables(String(input), { ...context, where: `${context.where}.${key}` }, warnings);
  };
  const map = (input: unknown, key: string): Record<string, string> | undefined => {
    if (input === undefined || input === null) return undefined;
    if (typeof input !== 'object' || Array.isArray(input)) {
      warnings.push(`${context.where}.${key}: not a map; not imported`);
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [name, item] of Object.entries(input)) {
      const converted = text(item, `${key}.${name}`);
      if (converted !== undefined) out[name] = converted;
    }
    return out;
  };
  const command = text(raw.command, 'command');
  const url = text(raw.url, 'url');
  if (command !== undefined && command !== '') {
    server.command = command;
    if (Array.isArray(raw.args)) {
      server.args = raw.args.map((arg, index) => text(arg, `args[${index}]`)).filter((arg): arg is string => arg !== undefined);
    } else if (raw.args !== undefined) {
      warnings.push(`${context.where}.args: not a list; not imported`);
    }
    const env = map(raw.env, 'env');
    if (env !== undefined && Object.keys(env).length > 0) server.env = env;
    const cwd = text(raw.cwd, 'cwd');
    if (cwd !== undefined && cwd !== '') server.cwd = cwd;
    if (raw.headers !== undefined) warnings.push(`${context.where}.headers: only HTTP servers take headers; not imported`);
  } else if (url !== undefined && url !== '') {
    server.url = url;
    const headers = map(raw.headers, 'headers');
    if (headers !== undefined && Object.keys(headers).length > 0) server.headers = headers;
    for (const key of ['args', 'env', 'cwd'] as const) {
      if (raw[key] !== undefined) warnings.push(`${context.where}.${key}: only stdio servers take ${key}; not imported`);
    }
    if (/[?&](api[_-]?key|key|token|access_token|secret)=/i.test(url)) {
      warnings.push(`${context.where}.url: the URL seems to carry a key in its query; move it to a header or .env by hand`);
    }
  } else {
    return { warnings: [...warnings, `${context.where}: neither \`command\` nor \`url\`; skipped`] };
  }
  if (raw.disabled === true) server.enabled = false;
  return { server, warnings };
}

/**
 * Client variables in a value → automcp's `${VAR}`: `${env:VAR}` becomes `${VAR}`; `${userHome}` and
 * (when the folder is known) `${workspaceFolder}` are filled in; VS Code's `${input:id}` (a prompt automcp
 * cannot show) becomes `${ID}`, to be set in `.env`, with a warning; anything else is kept literally.
 */
export function normalizeVariables(value: string, context: EntryContext, warnings: string[]): string {
  return value.replace(/\$\{([^}]*)\}/g, (match, inner: string) => {
    // VS Code's own variables first: their names would otherwise read as environment variables.
    if (inner === 'userHome') return context.home;
    if (inner === 'workspaceFolder' && context.workspace !== undefined) return context.workspace;
    if (/^[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?$/.test(inner) && !VSCODE_VARIABLES.has(inner)) return match;
    const env = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(inner);
    if (env) return `\${${env[1]}}`;
    const input = /^input:(.+)$/.exec(inner);
    if (input) {
      const id = input[1] as string;
      const name = variableName(id);
      const about = context.inputs?.get(id);
      warnings.push(
        `${context.where}: VS Code input variable \${input:${id}}${about ? ` ("${about}")` : ''} is a prompt automcp cannot show; ` +
          `runtime.yaml now reads \${${name}}: set ${name} in the .env file beside runtime.yaml (or in the environment)`,
      );
      return `\${${name}}`;
    }
    warnings.push(`${context.where}: client variable ${match} has no automcp equivalent; kept as literal text, edit it by hand`);
    return `$${match}`;
  });
}

/** An identifier as an environment variable name: `github-token` → `GITHUB_TOKEN`. */
export function variableName(text: string): string {
  const name = text
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
  return /^[A-Z_]/.test(name) ? name : `V_${name}`;
}

/** Does this entry start automcp itself (so importing it would make automcp its own downstream)? */
export function isAutomcpEntry(server: ServerEntry | undefined, name: string): boolean {
  if (server?.command === undefined) return false;
  const words = [server.command, ...(server.args ?? [])];
  const mentions = words.some(
    (word) => /(^|[\\/])automcp(@[^\s]*)?(\.cmd|\.exe)?$/i.test(word) || /automcp[\\/]dist[\\/]cli[\\/]main\.js$/i.test(word),
  );
  return mentions && (words.includes('serve') || name === 'automcp');
}
