/**
 * `automcp status`: what every running `automcp serve` that shares this state directory reports about
 * its servers (state, pid, tool count, last error), read from the status files they keep (see
 * state/statusFile.ts); and, from the catalog cache, which configured servers could start lazily.
 */
import { loadConfig, type RuntimeConfig } from '../config/load.js';
import { CatalogCache } from '../state/catalogCache.js';
import { readGatewayStatuses } from '../state/statusFile.js';
import type { ServerStatus } from '../downstream/registry.js';
import { resolveStateDir } from '../state/stateDir.js';
import { learnedCounts } from './learned.js';
import { describeSignIn, readSignInStates } from '../auth/signInState.js';

/** Prints the status; exit code 0 (a stopped gateway is not an error). */
export async function statusCommand(options: { config?: string; json?: boolean }): Promise<number> {
  // The config is optional here: without one, status still reads the default state directory.
  const config = await loadConfig(options.config !== undefined ? { path: options.config } : {}).catch((error: unknown) => {
    if (options.config !== undefined) throw error;
    return undefined;
  });
  const stateDir = resolveStateDir(config?.stateDir !== undefined ? { configured: config.stateDir } : {});
  const gateways = await readGatewayStatuses(stateDir);
  const cached = config ? await cacheReport(config, stateDir) : [];
  const learned = await learnedCounts(config, stateDir);
  const signIns = config ? [...(await readSignInStates({ servers: config.servers, stateDir })).values()] : [];
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ stateDir, gateways, cache: cached, learned, signIns }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`state directory ${stateDir}\n`);
  if (gateways.length === 0) process.stdout.write('no running gateway\n');
  for (const gateway of gateways) {
    process.stdout.write(
      `gateway pid ${gateway.pid}, profile ${gateway.profile}, ${gateway.config} (since ${gateway.startedAt}, updated ${gateway.updatedAt})\n`,
    );
    for (const server of gateway.servers) process.stdout.write(`  ${formatServer(server)}\n`);
    const vectors = gateway.embeddings;
    if (vectors) {
      process.stdout.write(
        `  embeddings ${vectors.model}: ${vectors.embedded}/${vectors.total} tools embedded, ${vectors.state}${vectors.error !== undefined ? ` (${vectors.error})` : ''}\n`,
      );
    }
    const refused = gateway.reload?.refusedEdit;
    if (refused)
      process.stdout.write(`  refused edit (${refused.at}), still running the previous configuration: ${refused.message}\n`);
  }
  if (config) {
    process.stdout.write(`catalog cache for ${config.file}\n`);
    for (const entry of cached) {
      process.stdout.write(
        `  ${entry.server.padEnd(20)} ${entry.readAt ? `${entry.tools} tools, read ${entry.readAt}` : 'not cached (starts at boot)'}\n`,
      );
    }
  }
  if (signIns.length > 0) process.stdout.write('sign-in of remote servers\n');
  for (const entry of signIns) process.stdout.write(`  ${entry.server.padEnd(20)} ${describeSignIn(entry)}\n`);
  process.stdout.write(
    `learned from use (${learned.store})${learned.error !== undefined ? `: ${learned.error}` : learned.profiles.length === 0 ? ': nothing yet' : ''}\n`,
  );
  for (const entry of learned.profiles)
    process.stdout.write(`  profile ${entry.profile.padEnd(20)} ${entry.tools} tools, ${entry.pairs} (term, tool) pairs\n`);
  return 0;
}

function formatServer(server: ServerStatus): string {
  const state = server.state === 'down' && server.downUntil ? `down until ${server.downUntil}` : server.state;
  const parts = [
    server.name.padEnd(20),
    state.padEnd(14),
    server.pid !== undefined ? `pid ${server.pid}` : 'no process',
    `${server.tools} tools`,
    ...(server.quarantined ? [`quarantined (run automcp review ${server.name})`] : []),
    ...(server.heldBack ? [`${server.heldBack} held back${heldDetail(server)}`] : []),
    ...(server.lastError ? [`last error: ${server.lastError}`] : []),
  ];
  return parts.join('  ');
}

/** What releases the held-back tools of `server`: review for quarantine and findings, trust for pinned changes. */
function heldDetail(server: ServerStatus): string {
  const changed = (server.heldBack ?? 0) - (server.flagged ?? 0) - (server.quarantined ? (server.heldBack ?? 0) : 0);
  const parts = [
    ...(server.flagged ? [`${server.flagged} for poisoning findings`] : []),
    ...(changed > 0 ? [`${changed} changed since trusted`] : []),
  ];
  const command = changed > 0 && !server.flagged && !server.quarantined ? 'trust' : 'review';
  return ` (${[...parts, `run automcp ${command} ${server.name}`].join('; ')})`;
}

async function cacheReport(config: RuntimeConfig, stateDir: string) {
  const cache = new CatalogCache({ stateDir });
  return Promise.all(
    config.servers
      .filter((spec) => spec.enabled !== false)
      .map(async (spec) => {
        const entry = await cache.read(spec);
        return { server: spec.name, ...(entry ? { tools: entry.tools.length, readAt: entry.readAt } : {}) };
      }),
  );
}
