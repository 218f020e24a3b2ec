/**
 * `automcp trust <server>`: starts the server, lists its tools, and records their current definition
 * hashes as trusted in the state directory. For a server with `pinDefinitions: true` this releases
 * tools held back after a definition change; running gateways notice the new file on their next sweep.
 * It prints what changed, so the person running it sees what they accept.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { Catalog } from '../catalog/catalog.js';
import { loadHasher } from '../catalog/hash.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { DownstreamConnection } from '../downstream/connection.js';
import { createProcessGuard } from '../downstream/processes.js';
import { resolveStateDir } from '../state/stateDir.js';
import { createTransportFactory } from '../downstream/transport.js';
import { TrustStore } from '../state/trustFile.js';
import { createLogger } from '../logging/logger.js';

/** Trusts the current definitions of `server`; exit code 1 when it cannot be reached. */
export async function trustCommand(
  server: string,
  options: { config?: string; json?: boolean; verbose?: boolean },
): Promise<number> {
  const config = await loadConfig(options.config !== undefined ? { path: options.config } : {});
  const spec = config.servers.find((entry) => entry.name === server);
  if (!spec) {
    const known = config.servers.map((entry) => entry.name).join(', ') || 'none';
    throw new ConfigError(config.file, [`no server named "${server}" (configured servers: ${known})`]);
  }
  const logger = createLogger({ level: options.verbose ? 'debug' : 'warn' });
  const stateDir = resolveStateDir(config.stateDir !== undefined ? { configured: config.stateDir } : {});
  const guard = createProcessGuard({ logger, watchdog: true });
  let tools: Tool[] = [];
  const connection = new DownstreamConnection({
    spec,
    logger,
    transports: createTransportFactory({ logger, cwd: config.dir, guard }),
    onTools: (listed) => {
      tools = listed;
    },
  });
  try {
    await connection.ensure();
  } catch (error) {
    process.stderr.write(`automcp: server "${server}" could not be started: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await connection.close();
    guard.close();
  }
  const catalog = new Catalog(await loadHasher());
  const current = tools.map((tool) => catalog.toCatalogTool(server, tool));
  const trust = new TrustStore({ stateDir });
  const before = trust.trusted(server);
  const changes = current.flatMap((tool) => {
    const previous = before.get(tool.name);
    if (previous === tool.hash) return [];
    return [{ tool: tool.name, before: previous ?? null, after: tool.hash }];
  });
  const removed = [...before.keys()].filter((name) => !current.some((tool) => tool.name === name));
  trust.replace(
    server,
    current.map((tool) => ({ name: tool.name, hash: tool.hash })),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ server, stateDir, trusted: current.length, changes, removed }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`trusted ${current.length} tool definitions of ${server} (${stateDir})\n`);
  for (const change of changes) {
    process.stdout.write(
      `  ${change.before ? `changed ${change.before} -> ${change.after}` : `new     ${change.after}`}  ${change.tool}\n`,
    );
  }
  for (const name of removed) process.stdout.write(`  removed  ${name}\n`);
  if (!spec.pinDefinitions)
    process.stdout.write(`note: ${server} does not set pinDefinitions: true, so nothing is held back for it\n`);
  return 0;
}
