/**
 * What the one-shot commands share: load the configuration and the profile, build a gateway with a
 * stderr logger, start the downstream servers, and always stop them again.
 */
import { loadConfig, loadProfile, type Profile, type RuntimeConfig } from '../config/load.js';
import { createProcessGuard } from '../downstream/processes.js';
import { createGateway, type Gateway } from '../gateway/create.js';
import { createLogger, type Logger } from '../logging/logger.js';

/** Options every command that reads configuration accepts. */
export interface ConfigOptions {
  config?: string;
  profile?: string;
  verbose?: boolean;
}

/** A loaded configuration with its profile and logger. */
export interface Loaded {
  config: RuntimeConfig;
  profile: Profile;
  logger: Logger;
}

/** Loads runtime.yaml and the profile named by `--profile` or `AUTOMCP_PROFILE` (else `default`). */
export async function loadAll(options: ConfigOptions, level?: RuntimeConfig['logging']['level']): Promise<Loaded> {
  const config = await loadConfig(options.config !== undefined ? { path: options.config } : {});
  const name = options.profile ?? (process.env.AUTOMCP_PROFILE || undefined);
  const profile = await loadProfile({ profilesDir: config.profilesDir, ...(name !== undefined ? { name } : {}) });
  const logger = createLogger({ level: options.verbose ? 'debug' : (level ?? config.logging.level) });
  return { config, profile, logger };
}

/** Runs `body` against a started gateway, closing it (and every child) afterwards. */
export async function withGateway<T>(options: ConfigOptions, body: (gateway: Gateway, loaded: Loaded) => Promise<T>): Promise<T> {
  // One-shot commands print for a person on stdout; only warnings and errors belong on stderr.
  const loaded = await loadAll(options, 'warn');
  // No state directory: these commands connect to every server live and leave the cache alone.
  const guard = createProcessGuard({ logger: loaded.logger, watchdog: true });
  // Nor run traces: a one-shot selection is not a run of an agent's.
  const gateway = await createGateway({ config: loaded.config, logger: loaded.logger, guard, useCache: false, traces: false });
  try {
    await gateway.start();
    return await body(gateway, loaded);
  } finally {
    await gateway.close();
    guard.close();
  }
}
