/**
 * Codex: `config.toml` in `$CODEX_HOME` (default `~/.codex`), servers as `[mcp_servers.<name>]` tables.
 * Edits work on the text, table by table, so comments and the layout of everything else stay as they were.
 */
import { parse, stringify } from 'smol-toml';
import { convertEntry, isAutomcpEntry } from './entries.js';
import { pathsOf } from './paths.js';
import { ENTRY_NAME, type ClientFormat, type ReadServer } from './types.js';

/** The table every server lives under. */
const CONTAINER = 'mcp_servers';

/** Codex's format. */
export const codex: ClientFormat = {
  name: 'codex',
  locations(platform) {
    const { join } = pathsOf(platform);
    return [{ file: join(platform.env.CODEX_HOME || join(platform.home, '.codex'), 'config.toml'), scope: 'user' }];
  },
  read(text, location, platform) {
    let data: Record<string, unknown>;
    try {
      data = parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`${location.file}: not valid TOML (${(error as Error).message.split('\n')[0]})`);
    }
    const container = (data[CONTAINER] ?? {}) as Record<string, Record<string, unknown>>;
    const servers: ReadServer[] = Object.entries(container).map(([name, raw]) => {
      const where = `${CONTAINER}.${name}`;
      const { mapped, timeoutMs } = fromCodex(raw);
      const { server, warnings } = convertEntry(mapped, { where, home: platform.home });
      if (server !== undefined && timeoutMs !== undefined) server.timeoutMs = timeoutMs;
      return {
        name,
        where,
        topLevel: true,
        ...(server !== undefined ? { server } : {}),
        isAutomcp: isAutomcpEntry(server, name),
        warnings,
      };
    });
    return { servers, warnings: [] };
  },
  write(text, launch, { only }) {
    const kept = removeTables(text, (name) => only || name === ENTRY_NAME);
    if (only) {
      const left = Object.keys((parse(kept)[CONTAINER] ?? {}) as object);
      if (left.length > 0) {
        throw new Error(
          `servers ${left.join(', ')} are not written as [${CONTAINER}.<name>] tables; remove them from config.toml by hand`,
        );
      }
    }
    const table = stringify({ [CONTAINER]: { [ENTRY_NAME]: { command: launch.command, args: launch.args } } });
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const separator = kept === '' ? '' : kept.endsWith(`${eol}${eol}`) ? '' : kept.endsWith(eol) ? eol : `${eol}${eol}`;
    return `${kept}${separator}${table.trim().replace(/\n/g, eol)}${eol}`;
  },
  remove: (text) => removeTables(text, (name) => name === ENTRY_NAME),
};

/** Codex's spelling → the shared JSON shape; keys left unmapped are named by convertEntry's warning. */
function fromCodex(raw: Record<string, unknown>): { mapped: Record<string, unknown>; timeoutMs?: number } {
  const {
    env_vars: envVars,
    bearer_token_env_var: bearer,
    http_headers: httpHeaders,
    env_http_headers: envHeaders,
    enabled,
    tool_timeout_sec: toolTimeout,
    ...rest
  } = raw;
  const mapped: Record<string, unknown> = { ...rest };
  if (Array.isArray(envVars)) {
    mapped.env = { ...Object.fromEntries(envVars.map((name) => [String(name), `\${${String(name)}}`])), ...(rest.env as object) };
  }
  const headers: Record<string, unknown> = { ...(httpHeaders as object) };
  if (typeof bearer === 'string') headers.Authorization = `Bearer \${${bearer}}`;
  for (const [header, name] of Object.entries((envHeaders ?? {}) as Record<string, unknown>))
    headers[header] = `\${${String(name)}}`;
  if (Object.keys(headers).length > 0) mapped.headers = headers;
  if (enabled === false) mapped.disabled = true;
  const timeoutMs = typeof toolTimeout === 'number' ? Math.round(toolTimeout * 1000) : undefined;
  return { mapped, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}

/**
 * Removes every `[mcp_servers.<name>]` table (and its sub-tables) whose name `drop` accepts. Blank and
 * comment lines at the end of a removed table stay: they usually introduce the table that follows.
 */
function removeTables(text: string, drop: (name: string) => boolean): string {
  const lines = text.split(/(?<=\n)/);
  let dropping = false;
  let trailing: string[] = [];
  const out: string[] = [];
  for (const line of lines) {
    const bare = line.replace(/\r?\n$/, '');
    const header = /^\s*\[\[?([^[\]]+)\]\]?\s*(#.*)?$/.exec(bare);
    if (header) {
      const path = keyPath(header[1] as string);
      const next = path[0] === CONTAINER && path[1] !== undefined && drop(path[1]);
      if (dropping && !next) out.push(...trailing);
      trailing = [];
      dropping = next;
    }
    if (!dropping) out.push(line);
    else if (/^\s*(#.*)?$/.test(bare)) trailing.push(line);
    else trailing = [];
  }
  return out.join('');
}

/** `mcp_servers."my server".env` → ['mcp_servers', 'my server', 'env']. */
function keyPath(inner: string): string[] {
  const parts: string[] = [];
  for (const match of inner.matchAll(/\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*(?:\.|$)/g)) {
    const part = match[1] as string;
    parts.push(part.startsWith('"') ? (JSON.parse(part) as string) : part.startsWith("'") ? part.slice(1, -1) : part);
  }
  return parts;
}
