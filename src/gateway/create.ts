/**
 * Wiring: `createGateway(config)` builds the catalog, the downstream registry, the selector and the
 * session store with their defaults, and hands them to the core. Everything nondeterministic (transport,
 * clock, ids) can be injected, which is how the tests run without sleeping or spawning when they choose.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { Catalog } from '../catalog/catalog.js';
import { BUILTIN_SERVER } from '../catalog/glob.js';
import { loadHasher } from '../catalog/hash.js';
import { CallerViews } from '../catalog/view.js';
import type { Profile, RuntimeConfig } from '../config/load.js';
import { CatalogCache } from '../state/catalogCache.js';
import { resolveStateDir } from '../state/stateDir.js';
import { createProcessGuard, type ProcessGuard } from '../downstream/processes.js';
import { DownstreamRegistry, type ServerStatus } from '../downstream/registry.js';
import { createTransportFactory, type TransportFactory } from '../downstream/transport.js';
import { TrustStore } from '../state/trustFile.js';
import { createLearner } from '../learning/create.js';
import type { Learner } from '../learning/learner.js';
import { createSilentLogger, type Logger } from '../logging/logger.js';
import { createLlmSelection, type ProbeResult } from '../selection/llm.js';
import { resolveSelectorModel, type SelectorState } from '../selection/providers.js';
import { resolveEmbeddingModel, type Embedder, type EmbeddingsState } from '../selection/embeddings.js';
import { createEmbeddingsStage } from '../selection/hybrid.js';
import { ToolVectors } from '../selection/vectors.js';
import { GraphSelector, type Selector } from '../selection/selector.js';
import { createSessionStore } from '../session/create.js';
import type { Clock } from '../session/memory.js';
import type { SessionStore } from '../session/store.js';
import { createTraceObserver } from '../traces/observer.js';
import { createTraceStore, type TraceStore } from '../traces/store.js';
import { ConfigReloader } from '../ops/reload.js';
import { runLogOf, type RunLog } from '../ops/runLog.js';
import { OpsService } from '../ops/service.js';
import { OPS_SERVER_DESCRIPTION, OPS_TOOLS } from '../ops/tools.js';
import { ArgumentValidator } from './arguments.js';
import { GatewayCore, type CallerContext } from './core.js';
import { combineObservers, type GatewayObserver } from './observer.js';
import { createGatewayServer } from './server.js';

/** A wired gateway: start it, connect upstream transports to it, close it. */
export interface Gateway {
  readonly core: GatewayCore;
  readonly catalog: Catalog;
  readonly registry: DownstreamRegistry;
  readonly selector: Selector;
  /** Whether selection runs on a chat model (which one) or lexically (and why). */
  readonly selectorState: SelectorState;
  /** Sends one small selection request to the chat model; without a model, reports why there is none. */
  probeSelector(): Promise<ProbeResult>;
  /** Whether rankings fuse embeddings (which model) or not (and why). */
  readonly embeddingsState: EmbeddingsState;
  /** The tool vectors, when `selector.embeddings` is usable (their status is what `automcp status` shows). */
  readonly vectors: ToolVectors | undefined;
  /** Where sessions are remembered (memory, or Redis shared with other processes); its size is the active-sessions figure. */
  readonly sessions: SessionStore;
  /** The run traces this gateway writes and can query; undefined when it keeps none. */
  readonly traces: TraceStore | undefined;
  /** What was learned from use (learning/learner.ts), per profile. */
  readonly learner: Learner;
  /**
   * Starts every downstream server once, and the periodic sweep; resolves with their states (failures
   * included). Nothing runs before it. The first tool call waits for it, so a gateway that was never
   * started explicitly starts on first use.
   */
  start(): Promise<ServerStatus[]>;
  /** The configuration in force and its live reload (runtime.yaml and profiles; see ops/reload.ts). */
  readonly reloader: ConfigReloader;
  /**
   * Serves one upstream connection for `profile`. `caller` defaults to the profile's name. Each call
   * uses the profile of that name in force at the time (a reload swaps it), or `profile` itself when
   * the live configuration has none of that name. A `stateless` connection serves a single request: it
   * has no default session, so only calls naming a sessionId are remembered (nobody could name its
   * connection's session again).
   */
  connect(options: {
    transport: Transport;
    profile: Profile;
    caller?: string;
    connectionId?: string;
    stateless?: boolean;
  }): Promise<Server>;
  /** Closes upstream connections, stops every downstream server and closes the session store it built. */
  close(): Promise<void>;
}

/** Options of {@link createGateway}; all but `config` have working defaults. */
export interface GatewayOptions {
  config: RuntimeConfig;
  logger?: Logger;
  transports?: TransportFactory;
  sessions?: SessionStore;
  clock?: Clock;
  newId?: () => string;
  /** How long selections wait for servers still starting (default {@link STARTUP_GRACE_MS}). */
  startupGraceMs?: number;
  /** A chat model to select with instead of the one `selector.llm` names (tests, library users). */
  chatModel?: BaseChatModel;
  /** An embedding model to rank with instead of the one `selector.embeddings` names (tests, library users). */
  embedder?: Embedder;
  /** Where the key named by `selector.llm.apiKeyEnv` is read (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Told once per tool call, e.g. by metrics. */
  observer?: GatewayObserver;
  /** Whether run traces carry token counts when `traces.countTokens` is unset (true for `serve --http`). */
  traceTokens?: boolean;
  /**
   * Where the catalog cache and trusted hashes live; default `config.stateDir`. Without either, there
   * is no cache (every server starts at boot) and trust lasts as long as the process.
   */
  stateDir?: string;
  /** False to start every server at boot even when it has a cached tool list (`automcp check`). */
  useCache?: boolean;
  /** Tracks stdio children's process groups; default: one without a watchdog, ended by close(). */
  guard?: ProcessGuard;
  /** Random numbers in [0, 1), for backoff jitter. */
  random?: () => number;
  /** Waits `ms` (restart backoff); inject it with `clock` so tests that move time never sleep. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * How often the downstream sweep (idle stops, keep-alive, retries, trust changes on disk) runs once
   * the gateway is started; `false` for never. Default every {@link SWEEP_INTERVAL_MS}, or never when
   * a `clock` is injected: a test that moves time also calls `registry.tick()` itself.
   */
  sweepIntervalMs?: number | false;
  /**
   * Run traces: by default a store in `<stateDir>/runs` when there is a state directory and
   * `traces.enabled`; another store (closed by whoever made it), or `false` for none (one-shot commands).
   */
  traces?: TraceStore | false;
  /** Profiles known at start (what `serve` loaded); a reload reads the whole profiles folder. */
  profiles?: ReadonlyMap<string, Profile>;
  /** Profiles the gateway needs (its `--profile`, its callers'): a reload that breaks one is refused. */
  profilesInUse?: (config: RuntimeConfig) => string[];
  /** More checks a reload must pass (HTTP callers); returns how to commit what it built. */
  prepareReload?: (config: RuntimeConfig) => Promise<() => void>;
  /** The run traces `automcp.list_runs` / `get_run` read; without it they answer that traces are off. */
  runLog?: RunLog;
  /** True when callers come over HTTP: add_server and update_profile then need their own allow entry. */
  remote?: boolean;
}

/** Default period of the downstream sweep. */
export const SWEEP_INTERVAL_MS = 1_000;

/** Default wait of a selection for servers that are still starting. */
export const STARTUP_GRACE_MS = 5_000;

/** Builds a gateway from a validated runtime configuration. */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const logger = options.logger ?? createSilentLogger();
  const hasher = await loadHasher();
  const now = options.clock ? () => options.clock!.now() : Date.now;

  const catalog = new Catalog(hasher);
  const views = new CallerViews({ catalog, hasher });
  const stateDir = options.stateDir ?? config.stateDir;
  const ownGuard = options.guard || options.transports ? undefined : createProcessGuard({ logger });
  const guard = options.guard ?? ownGuard;
  const registry = new DownstreamRegistry({
    servers: config.servers,
    catalog,
    logger,
    transports:
      options.transports ??
      createTransportFactory({
        logger,
        cwd: config.dir,
        ...(guard ? { guard } : {}),
        // Sign-ins are the user's, so they live in the state directory even where the cache does not.
        signIn: { stateDir: stateDir ?? resolveStateDir({}), now, ...(options.env ? { env: options.env } : {}) },
      }),
    now,
    ...(options.random ? { random: options.random } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(stateDir !== undefined ? { cache: new CatalogCache({ stateDir, now }) } : {}),
    trust: new TrustStore({ ...(stateDir !== undefined ? { stateDir } : {}), now }),
    ...(options.useCache !== undefined ? { useCache: options.useCache } : {}),
  });
  const sweepMs = options.sweepIntervalMs ?? (options.clock ? false : SWEEP_INTERVAL_MS);
  const selectorModel = await resolveSelectorModel({
    llm: config.selector.llm,
    ...(options.env ? { env: options.env } : {}),
    ...(options.chatModel ? { chatModel: options.chatModel } : {}),
  });
  const llm = createLlmSelection({
    model: selectorModel,
    logger,
    decompose: config.selector.decompose ?? false,
    compact: config.selector.compact === true,
    serverFirst: config.selector.serverFirst ?? false,
    rewrite: config.selector.rewrite === true,
    describeServer: (server) => catalog.server(server)?.description ?? '',
  });
  const embeddingModel = await resolveEmbeddingModel({
    embeddings: config.selector.embeddings,
    ...(options.env ? { env: options.env } : {}),
    ...(options.embedder ? { embedder: options.embedder } : {}),
  });
  const vectors = embeddingModel.embedder
    ? new ToolVectors({ model: embeddingModel, logger, now, ...(stateDir !== undefined ? { stateDir } : {}) })
    : undefined;
  const learner = await createLearner({
    config,
    logger,
    ...(stateDir !== undefined ? { stateDir } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const selector = new GraphSelector({
    catalog,
    views,
    candidates: config.selector.candidates,
    learner,
    ...(llm.rerank ? { rerank: llm.rerank } : {}),
    ...(llm.decompose ? { decompose: llm.decompose } : {}),
    ...(vectors ? { embeddings: createEmbeddingsStage({ vectors }) } : {}),
  });
  // A store built here is closed here; an injected one belongs to whoever injected it.
  const ownSessions = options.sessions === undefined;
  const sessions =
    options.sessions ??
    (await createSessionStore({ session: config.session, logger, ...(options.clock ? { clock: options.clock } : {}) }));
  // Nothing runs before start(): no sweep timer, no child. Building can still fail (a session store
  // that cannot be created), and a half-built gateway must leave nothing behind.
  let started: Promise<ServerStatus[]> | undefined;
  let startedAt = 0;
  let sweep: NodeJS.Timeout | undefined;
  let stopVectors: (() => void) | undefined;
  let closed = false;
  const start = () => {
    if (!started) {
      startedAt = now();
      started = registry.start();
      // Tool vectors follow the catalog, in the background: selections never wait for them.
      if (vectors && !closed) {
        vectors.sync(catalog.tools());
        stopVectors = catalog.onChange(() => vectors.sync(catalog.tools()));
      }
      if (sweepMs !== false && !closed) {
        sweep = setInterval(() => {
          registry.tick().catch((error: unknown) => logger.warn({ err: (error as Error).message }, 'downstream sweep failed'));
        }, sweepMs);
        sweep.unref();
      }
    }
    return started;
  };
  // Selections wait for servers still starting, but no longer than the grace period after start-up.
  const ready = async () => {
    const all = start();
    const remaining = startedAt + (options.startupGraceMs ?? STARTUP_GRACE_MS) - now();
    if (remaining <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((done) => (timer = setTimeout(done, remaining)))]);
    clearTimeout(timer);
  };
  // A store built here is flushed and closed here; an injected one belongs to whoever injected it.
  const ownTraces = options.traces === undefined && stateDir !== undefined && config.traces.enabled;
  const traces = ownTraces
    ? createTraceStore({
        dir: join(stateDir, 'runs'),
        maxBytes: config.traces.maxMegabytes * 1024 * 1024,
        maxAgeMs: config.traces.maxDays * 86_400_000,
        logger,
        now,
      })
    : options.traces || undefined;
  const observer = combineObservers(
    options.observer,
    traces
      ? createTraceObserver({
          store: traces,
          includeArguments: config.traces.includeArguments,
          countTokens: config.traces.countTokens ?? options.traceTokens ?? false,
          now,
        })
      : undefined,
  );
  // randomUUID draws from a cached pool of random bytes; randomBytes(4) asks the system on every call.
  const newId = options.newId ?? (() => randomUUID().slice(0, 8));
  // Replaced in place on reload, so the core always reads the timeouts in force.
  const serverTimeouts = new Map<string, number>();
  const setTimeouts = (next: RuntimeConfig) => {
    serverTimeouts.clear();
    for (const server of next.servers) if (server.timeoutMs) serverTimeouts.set(server.name, server.timeoutMs);
  };
  setTimeouts(config);
  const reloader = new ConfigReloader({
    config,
    profiles: options.profiles ?? new Map(),
    logger,
    ...(options.env ? { env: options.env } : {}),
    ...(options.profilesInUse ? { inUse: options.profilesInUse } : {}),
    ...(options.prepareReload ? { prepare: options.prepareReload } : {}),
    apply: (next) => {
      const report = registry.reconcile(next.servers);
      setTimeouts(next);
      return report;
    },
  });
  // The gateway's own tools join the catalog like a server's, after the configured ones.
  const ops = new OpsService({
    registry,
    catalog,
    views,
    sessions,
    reloader,
    logger,
    remote: options.remote ?? false,
    ...(stateDir !== undefined ? { stateDir } : {}),
    ...(options.runLog ? { runLog: options.runLog } : traces ? { runLog: runLogOf(traces, now) } : {}),
    ...(options.transports ? { transports: options.transports } : {}),
  });
  catalog.declareServer(BUILTIN_SERVER, OPS_SERVER_DESCRIPTION);
  catalog.setServerTools(BUILTIN_SERVER, OPS_SERVER_DESCRIPTION, OPS_TOOLS);
  const core = new GatewayCore({
    catalog,
    views,
    selector,
    sessions,
    registry,
    validator: new ArgumentValidator({ logger }),
    logger,
    newRunId: () => `r_${newId()}`,
    ready,
    learner,
    ...(observer ? { observer } : {}),
    serverTimeouts,
    builtin: { server: BUILTIN_SERVER, call: (tool, args, context) => ops.call(tool, args, context) },
  });
  // Said once, at start-up: a configured model that cannot be used is worth knowing about, not worth repeating.
  if (config.selector.llm && selectorModel.state.kind === 'lexical') {
    logger.warn(
      { provider: config.selector.llm.provider, model: config.selector.llm.model },
      `selector.llm is not used: ${selectorModel.state.reason}; selection is lexical`,
    );
  }
  if (config.selector.embeddings && embeddingModel.state.kind === 'off') {
    logger.warn(
      { provider: config.selector.embeddings.provider, model: config.selector.embeddings.model },
      `selector.embeddings is not used: ${embeddingModel.state.reason}; ranking is lexical`,
    );
  }
  const servers = new Set<Server>();

  return {
    core,
    catalog,
    registry,
    selector,
    selectorState: selectorModel.state,
    probeSelector: () => llm.probe(),
    embeddingsState: embeddingModel.state,
    vectors,
    sessions,
    traces,
    reloader,
    learner,
    start,
    async connect({ transport, profile, caller, connectionId, stateless = false }) {
      // The default session is the connection; '#' is outside the sessionId alphabet, so no explicit id can collide with it.
      // 64 random bits: with a shared (Redis) store, ids of every process and connection meet in one keyspace.
      const context: CallerContext = {
        caller: caller ?? profile.name,
        // Read once per call (server.ts): the profile of this name in force, swapped whole by a reload.
        get profile() {
          return reloader.profile(profile.name) ?? profile;
        },
        ...(stateless ? {} : { connectionId: connectionId ?? `#c_${newId()}${newId()}` }),
      };
      const server = createGatewayServer({ core, context, logger, registry });
      server.onclose = () => servers.delete(server);
      servers.add(server);
      await server.connect(transport);
      return server;
    },
    async close() {
      closed = true;
      reloader.unwatch();
      clearInterval(sweep);
      stopVectors?.();
      vectors?.close();
      await Promise.allSettled([...servers].map((server) => server.close()));
      await registry.close();
      await learner.close();
      if (ownSessions) await sessions.close?.();
      if (ownTraces) await traces?.close();
      ownGuard?.close();
    },
  };
}
