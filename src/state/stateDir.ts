/**
 * The state directory: where the catalog cache, trusted definition hashes and the status files of
 * running gateways live. `stateDir` in runtime.yaml wins, then `$XDG_STATE_HOME/automcp`, then
 * `~/.local/state/automcp`. Several gateways (one per MCP client) share the folder; how they write
 * it safely is in jsonFile.ts.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

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
