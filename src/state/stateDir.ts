/**
 * The state directory: where the catalog cache, trusted definition hashes and the status files of
 * running gateways live. `stateDir` in runtime.yaml wins, then `$XDG_STATE_HOME/automcp`, then
 * `~/.local/state/automcp`. Files are written whole through a temporary file and a rename, because
 * several gateways (one per MCP client) share the folder and must never read half a file.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** The state directory for a configuration: its `stateDir`, else the XDG state home. */
export function resolveStateDir({
  configured,
  env = process.env,
  home = homedir(),
}: {
  configured?: string;
  env?: Env;
  home?: string;
}): string {
  if (configured !== undefined) return configured;
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec says a relative value is invalid and must be ignored.
  if (xdg && xdg.startsWith('/')) return join(xdg, 'automcp');
  return join(home, '.local', 'state', 'automcp');
}

/** Writes `value` as JSON to `file` atomically (temporary file, then rename), creating folders. */
export async function writeJsonFile(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, file);
}

/** Reads a JSON file; undefined when it is missing or not valid JSON (a stale cache is never fatal). */
export async function readJsonFile(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}
