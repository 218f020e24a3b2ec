/**
 * `automcp trust <server>`: trusts the current definitions of a server (downstream/trust.ts does the
 * work) and prints what changed, so the person running it sees what they accept. For a server with
 * `pinDefinitions: true` this releases tools held back after a definition change; running gateways
 * notice the new file on their next sweep.
 */
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { trustServer, type TrustReport } from '../downstream/trust.js';
import { resolveStateDir } from '../state/stateDir.js';
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
  let report: TrustReport;
  try {
    report = await trustServer({ spec, stateDir, cwd: config.dir, logger });
  } catch (error) {
    process.stderr.write(`automcp: server "${server}" could not be started: ${(error as Error).message}\n`);
    return 1;
  }
  const { changes, removed } = report;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ server, stateDir, trusted: report.trusted, changes, removed }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`trusted ${report.trusted} tool definitions of ${server} (${stateDir})\n`);
  for (const change of changes) {
    process.stdout.write(
      `  ${change.before ? `changed ${change.before} -> ${change.after}` : `new     ${change.after}`}  ${change.tool}\n`,
    );
  }
  for (const name of removed) process.stdout.write(`  removed  ${name}\n`);
  if (spec.quarantine)
    process.stdout.write(
      `note: ${server} is under review (quarantine: true); trusting hashes does not approve it: run automcp review approve ${server}\n`,
    );
  else if (!spec.pinDefinitions)
    process.stdout.write(`note: ${server} does not set pinDefinitions: true, so no definition change is held back for it\n`);
  return 0;
}
