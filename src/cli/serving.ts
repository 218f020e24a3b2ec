/**
 * What both ways of serving share (stdio and `--http`): the state directory, the process guard and its
 * watchdog, the status file `automcp status` reads, and one way to stop — on SIGINT/SIGTERM/SIGHUP, on a
 * crash in our own code, or when the caller of {@link startServing} says so. A hard deadline makes sure
 * a stuck stop cannot keep the process (or its children) alive.
 */
import type { Profile, RuntimeConfig } from '../config/load.js';
import { createProcessGuard } from '../downstream/processes.js';
import { resolveStateDir } from '../state/stateDir.js';
import { createStatusReporter } from '../state/statusFile.js';
import { createGateway, SWEEP_INTERVAL_MS, type Gateway } from '../gateway/create.js';
import type { GatewayObserver } from '../gateway/observer.js';
import type { Logger } from '../logging/logger.js';
import { RELOAD_SIGNAL } from '../ops/reload.js';

/** Longest a stop may take before the process exits anyway (children are then killed by group). */
const STOP_DEADLINE_MS = 4_000;

/** A gateway being served, and how to end it. */
export interface Serving {
  readonly gateway: Gateway;
  readonly stateDir: string;
  /** Starts the downstream servers (in the background for the caller); logs and reports their states. */
  startDownstream(): Promise<void>;
  /** Runs before the gateway closes on stop (e.g. closing the HTTP listener and its MCP sessions). */
  beforeStop(hook: () => Promise<void>): void;
  /** Stops everything and exits the process with `code`. Later calls are ignored. */
  stop(reason: string, code?: number): Promise<void>;
}

/** Builds the gateway for `serve` and installs the handlers that stop it. */
export async function startServing(options: {
  config: RuntimeConfig;
  profile: Profile;
  logger: Logger;
  observer?: GatewayObserver;
  /** Profiles the gateway needs beyond `profile` (HTTP callers'): a reload that breaks one is refused. */
  profilesInUse?: (config: RuntimeConfig) => string[];
  /** More checks a reload must pass (HTTP callers' tokens); returns how to commit them. */
  prepareReload?: (config: RuntimeConfig) => Promise<() => void>;
  /** Callers come over HTTP. */
  remote?: boolean;
  /** Run traces carry token counts unless runtime.yaml says otherwise (`serve --http`, which loads the tokenizer anyway). */
  traceTokens?: boolean;
}): Promise<Serving> {
  const { config, profile, logger } = options;
  const stateDir = resolveStateDir({ ...(config.stateDir !== undefined ? { configured: config.stateDir } : {}) });
  const guard = createProcessGuard({ logger, watchdog: true });
  const gateway = await createGateway({
    config,
    logger,
    stateDir,
    guard,
    ...(options.observer ? { observer: options.observer } : {}),
    profiles: new Map([[profile.name, profile]]),
    profilesInUse: options.profilesInUse ?? (() => [profile.name]),
    ...(options.prepareReload ? { prepareReload: options.prepareReload } : {}),
    ...(options.remote ? { remote: true } : {}),
    ...(options.traceTokens !== undefined ? { traceTokens: options.traceTokens } : {}),
  });
  const { reloader } = gateway;
  // A profile that insists on the model gets lexical answers when there is none; say so once, at start.
  if (profile.selection.mode === 'llm' && gateway.selectorState.kind === 'lexical') {
    logger.warn(
      { profile: profile.name, reason: gateway.selectorState.reason },
      'profile asks for selection.mode llm, but no chat model is available; answers use the lexical ranking, marked fallback',
    );
  }
  if (profile.selection.mode === 'hybrid' && gateway.embeddingsState.kind === 'off') {
    logger.warn(
      { profile: profile.name, reason: gateway.embeddingsState.reason },
      'profile asks for selection.mode hybrid, but no embedding model is available; answers use the lexical ranking, marked fallback',
    );
  }
  const reporter = createStatusReporter({
    stateDir,
    config: config.file,
    profile: profile.name,
    status: () => gateway.registry.status(),
    reload: () => ({
      revision: reloader.live.revision,
      ...(reloader.lastReload ? { last: reloader.lastReload } : {}),
      ...(reloader.refused ? { refusedEdit: reloader.refused } : {}),
    }),
    embeddings: () => gateway.vectors?.status(),
  });
  const report = () => {
    reporter
      .update()
      .catch((error: unknown) => logger.debug({ err: (error as Error).message }, 'could not write the status file'));
  };
  const reporting = setInterval(report, SWEEP_INTERVAL_MS);
  reporting.unref();
  const hooks: (() => Promise<void>)[] = [];

  let stopping = false;
  const stop = async (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'stopping');
    clearInterval(reporting);
    reporter.remove();
    setTimeout(() => {
      logger.warn('stopping took too long; killing the remaining children');
      guard.killAll('SIGKILL');
      process.exit(code);
    }, STOP_DEADLINE_MS).unref();
    for (const hook of hooks) await hook().catch(() => undefined);
    await gateway.close().catch(() => undefined);
    guard.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
  // SIGHUP means "your terminal went away" for a stdio serve, so reloading has its own signal.
  process.on(RELOAD_SIGNAL, () => void reloader.reload(RELOAD_SIGNAL).catch(() => undefined));
  reloader.onReload(() => report());
  reloader.watch();
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    void stop('crash', 1);
  });
  report();

  return {
    gateway,
    stateDir,
    async startDownstream() {
      const status = await gateway.start();
      logger.info({ servers: status.map((s) => `${s.name}:${s.state}:${s.tools}`) }, 'downstream servers started');
      report();
    },
    beforeStop: (hook) => hooks.push(hook),
    stop,
  };
}
