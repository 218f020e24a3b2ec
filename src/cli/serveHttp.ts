/**
 * `automcp serve --http`: the gateway for many callers over Streamable HTTP. Start-up fails closed —
 * a caller with an unknown profile or an unset token variable, or a non-loopback address with no
 * callers, stops here with what to fix. SIGINT/SIGTERM close MCP sessions, then every child (see serving.ts).
 */
import type { RuntimeConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { createCallerAuth, isLoopbackHost, type CallerAuth } from '../http/auth.js';
import { createGatewayMetrics } from '../http/metrics.js';
import { startHttpGateway } from '../http/server.js';
import { loadAll, type ConfigOptions } from './context.js';
import { DEFAULT_HOST, DEFAULT_PORT } from './serveOptions.js';
import { startServing } from './serving.js';
import { createUiHandler } from '../ui/server.js';
import { gatewaySource } from '../ui/sources.js';

/** Options of `serve --http`. */
export interface ServeHttpOptions extends ConfigOptions {
  host?: string;
  port?: number;
}

export { DEFAULT_HOST, DEFAULT_PORT } from './serveOptions.js';

/** Serves until SIGINT or SIGTERM. */
export async function serveHttpCommand(options: ServeHttpOptions): Promise<void> {
  const { config, profile, logger } = await loadAll(options);
  const host = options.host ?? DEFAULT_HOST;
  const checkHost = (next: RuntimeConfig) => {
    if (next.callers.length === 0 && !isLoopbackHost(host)) {
      throw new ConfigError(next.file, [
        `refusing to listen on ${host} with no callers: anyone who can reach it could use every tool of profile "${profile.name}". ` +
          'Add a `callers:` section (e.g. `callers: {me: {profile: default, tokenEnv: AUTOMCP_TOKEN}}`) or use --host 127.0.0.1',
      ]);
    }
  };
  checkHost(config);
  // Callers and tokens are swapped whole by a reload; each request authenticates against the current set.
  let current = await createCallerAuth({ config, fallback: profile });
  const auth: CallerAuth = {
    get required() {
      return current.required;
    },
    get callers() {
      return current.callers;
    },
    authenticate: (authorization) => current.authenticate(authorization),
  };
  const metrics = createGatewayMetrics();
  const serving = await startServing({
    config,
    profile,
    logger,
    observer: metrics.observer,
    remote: true,
    traceTokens: true,
    profilesInUse: (next) => (next.callers.length > 0 ? next.callers.map((caller) => caller.profile) : [profile.name]),
    prepareReload: async (next) => {
      checkHost(next);
      const fresh = await createCallerAuth({ config: next, fallback: profile });
      return () => {
        current = fresh;
      };
    },
  });
  const { gateway } = serving;
  let ready = false;
  const http = await startHttpGateway({
    gateway,
    auth,
    logger,
    metrics,
    host,
    port: options.port ?? DEFAULT_PORT,
    isReady: () => ready,
    idleMs: config.session.ttlSeconds * 1000,
    ui: createUiHandler({ auth, logger, source: gatewaySource({ gateway, config, profile, stateDir: serving.stateDir }) }),
  });
  logger.info(
    {
      url: http.url,
      port: http.port,
      callers: auth.required ? auth.callers : undefined,
      profile: auth.required ? undefined : profile.name,
      config: config.file,
    },
    'automcp serving on http',
  );

  serving.beforeStop(() => http.close());

  await serving.startDownstream();
  ready = true;
}
