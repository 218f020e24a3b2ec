/**
 * The two places the dashboard reads from. Inside `serve --http` it asks the running gateway: its own
 * servers live, other gateways sharing the state directory from their status files, and a try runs
 * `automatic_mcp` on the gateway itself (recorded in the run traces like any call, in a session of its
 * own). `automcp ui` has no gateway: it reads the status files and traces, and builds one — as
 * `automcp select` does, starting the servers — at the first try, then keeps it until it stops.
 */
import { join } from 'node:path';
import { listProfiles, loadProfile, type Profile, type RuntimeConfig } from '../config/load.js';
import { createProcessGuard, type ProcessGuard } from '../downstream/processes.js';
import { createGateway, type Gateway } from '../gateway/create.js';
import type { Logger } from '../logging/logger.js';
import { readGatewayStatuses, type GatewayStatus } from '../state/statusFile.js';
import { countJsonTokens } from '../tokens/count.js';
import { tryConnectionId, type UiSource } from './server.js';

/** The dashboard of a running gateway (`serve --http`). */
export function gatewaySource({
  gateway,
  config,
  profile,
  stateDir,
  startedAt = new Date().toISOString(),
}: {
  gateway: Gateway;
  config: RuntimeConfig;
  /** The `--profile` it serves without callers. */
  profile: Profile;
  stateDir: string;
  startedAt?: string;
}): UiSource {
  return {
    mode: 'serve',
    runsDir: join(stateDir, 'runs'),
    async gateways() {
      const others = (await readGatewayStatuses(stateDir)).filter((entry) => entry.pid !== process.pid);
      const own: GatewayStatus = {
        pid: process.pid,
        config: config.file,
        profile: profile.name,
        startedAt,
        updatedAt: new Date().toISOString(),
        servers: gateway.registry.status(),
      };
      return [own, ...others];
    },
    profiles: () => listProfiles(config.profilesDir),
    loadProfile: (name) => loadProfile({ profilesDir: config.profilesDir, name }),
    select: (input) => selectOnce(gateway, input),
  };
}

/** The dashboard of `automcp ui`: the state directory, and a gateway of its own for tries. */
export function stateDirSource({
  config,
  stateDir,
  logger,
}: {
  config: RuntimeConfig;
  stateDir: string;
  logger: Logger;
}): UiSource & { close(): Promise<void> } {
  let started: Promise<{ gateway: Gateway; guard: ProcessGuard }> | undefined;
  const start = async () => {
    const guard = createProcessGuard({ logger, watchdog: true });
    // No traces and no cache, as for `automcp select`: a try is not an agent's run.
    const gateway = await createGateway({ config, logger, guard, useCache: false, traces: false });
    await gateway.start();
    return { gateway, guard };
  };
  return {
    mode: 'ui',
    runsDir: join(stateDir, 'runs'),
    gateways: () => readGatewayStatuses(stateDir),
    profiles: () => listProfiles(config.profilesDir),
    loadProfile: (name) => loadProfile({ profilesDir: config.profilesDir, name }),
    async select(input) {
      if (!started) {
        started = start();
        // A start that failed (a bad server) is tried again at the next try.
        started.catch(() => (started = undefined));
      }
      const { gateway } = await started;
      return selectOnce(gateway, input);
    },
    async close() {
      if (!started) return;
      const { gateway, guard } = await started;
      await gateway.close();
      guard.close();
    },
  };
}

async function selectOnce(
  gateway: Gateway,
  { query, limit, profile, caller }: { query: string; limit?: number; profile: Profile; caller: string },
) {
  const output = await gateway.core.automaticMcp(
    { query, ...(limit !== undefined ? { limit } : {}) },
    { caller, profile, connectionId: tryConnectionId() },
  );
  return { output, tokens: { sent: countJsonTokens(output), catalog: countJsonTokens(gateway.core.fullCatalog(profile)) } };
}
