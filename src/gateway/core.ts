/**
 * The gateway's behaviour, independent of any transport: `automatic_mcp` (select, then split into full
 * definitions and names-only by what the session already holds) and `automatic_eval` (look up within
 * the profile, validate, forward). Failures are thrown as GatewayErrors; `server.ts` maps them.
 */
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import type { Profile } from '../config/load.js';
import type { Catalog } from '../catalog/catalog.js';
import { matchesAny } from '../catalog/glob.js';
import { splitQualifiedName } from '../catalog/naming.js';
import { isAllowed, type CallerViews } from '../catalog/view.js';
import type { ToolDefinition } from '../catalog/types.js';
import type { CancelSignal } from '../downstream/connection.js';
import type { CallRelay } from '../downstream/relay.js';
import type { DownstreamRegistry } from '../downstream/registry.js';
import { GatewayError } from '../errors.js';
import type { Learner } from '../learning/learner.js';
import type { Logger } from '../logging/logger.js';
import type { SelectionMode } from '../selection/graph.js';
import type { Selector } from '../selection/selector.js';
import { FallbackSessions } from '../session/fallback.js';
import type { SessionKey, SessionStore } from '../session/store.js';
import type { ArgumentValidator } from './arguments.js';
import type { EvalEvent, GatewayObserver, SelectionEvent } from './observer.js';
import { heldBackError } from './heldBack.js';
import { suggestNames } from './suggest.js';
import { parseAutomaticEvalInput, parseAutomaticMcpInput } from './tools.js';

/** Who is calling: the caller's name (part of every session key), its profile and its connection. */
export interface CallerContext {
  caller: string;
  profile: Profile;
  /**
   * The default sessionId: one conversation per upstream connection. Absent for a connection that
   * lives for one request (a stateless HTTP request): no later request could name it, so without an
   * explicit sessionId nothing is remembered and every selection returns full definitions.
   */
  connectionId?: string;
}

/** What `automatic_mcp` returns (CONTRACT §1). */
export interface AutomaticMcpOutput {
  runId: string;
  mode: SelectionMode;
  etag: string;
  tools: (ToolDefinition & { hash: string })[];
  unchanged: { name: string; hash: string }[];
  totalAvailable: number;
  [key: string]: unknown;
}

/** Per-request hooks of `automatic_mcp`. */
export interface SelectionRequestContext {
  /** The upstream request's signal: cancelling it ends the readiness wait and the model call. */
  signal?: AbortSignal;
  /**
   * Defers the session update (what this session was sent) until the response has been handed to the
   * transport: a response that is never sent (the request was cancelled) must not count as held, or the
   * next selection would answer names-only for definitions the agent never saw. Without it, the update
   * is made before the output is returned.
   */
  afterSend?: (update: () => void) => void;
}

/** Per-request hooks of `automatic_eval`: cancellation and progress from the upstream request. */
export interface EvalRequestContext {
  signal?: CancelSignal;
  onProgress?: (progress: Progress) => void;
  /** Where the server's requests to the client during this call go (downstream/relay.ts). */
  relay?: CallRelay;
}

/** What an `automatic_eval` learned on the way, for its log record and report. */
interface EvalFacts {
  /** True once the input parsed. */
  parsed: boolean;
  /** The input's sessionId, if it named one. */
  sessionId?: string | undefined;
  /** The downstream server, once the name resolved to a tool the caller may use. */
  server?: string;
}

/**
 * Tools served inside the gateway rather than by a downstream server (the `automcp.*` ops tools).
 * They are in the catalog like any other, so the profile check and argument validation happen first.
 */
export interface BuiltinTools {
  /** The server name their qualified names start with. */
  readonly server: string;
  call(tool: string, args: Record<string, unknown>, context: CallerContext & { runId: string }): Promise<CallToolResult>;
}

/** The transport-free gateway. */
export class GatewayCore {
  readonly #catalog: Catalog;
  readonly #views: CallerViews;
  readonly #selector: Selector;
  readonly #sessions: FallbackSessions;
  readonly #registry: DownstreamRegistry;
  readonly #validator: ArgumentValidator;
  readonly #logger: Logger;
  /** The logger of the per-call `automatic_eval` record (see #reportEval). */
  readonly #evalLog: Logger;
  readonly #newRunId: () => string;
  readonly #serverTimeouts: ReadonlyMap<string, number>;
  readonly #ready: () => Promise<unknown>;
  readonly #observer: GatewayObserver | undefined;
  readonly #builtin: BuiltinTools | undefined;
  readonly #learner: Pick<Learner, 'selected' | 'used'> | undefined;

  constructor(options: {
    catalog: Catalog;
    views: CallerViews;
    selector: Selector;
    sessions: SessionStore;
    registry: DownstreamRegistry;
    validator: ArgumentValidator;
    logger: Logger;
    newRunId: () => string;
    serverTimeouts: ReadonlyMap<string, number>;
    /**
     * Resolves once the catalog is worth selecting from: every server started (or failed), or a short
     * grace period ran out, so one slow server cannot hold every selection hostage.
     */
    ready?: () => Promise<unknown>;
    /** Told once per tool call (metrics); optional. */
    observer?: GatewayObserver;
    /** The gateway's own tools (`automcp.*`); optional. */
    builtin?: BuiltinTools;
    /** Learns from use: which tools a session ran after which requests (learning/learner.ts); optional. */
    learner?: Pick<Learner, 'selected' | 'used'>;
  }) {
    this.#observer = options.observer;
    this.#builtin = options.builtin;
    this.#learner = options.learner;
    this.#ready = options.ready ?? (async () => undefined);
    this.#catalog = options.catalog;
    this.#views = options.views;
    this.#selector = options.selector;
    // A failing store (Redis down) degrades to full definitions; it never becomes a tool error.
    this.#sessions = new FallbackSessions({ store: options.sessions, logger: options.logger });
    this.#registry = options.registry;
    this.#validator = options.validator;
    this.#logger = options.logger;
    this.#evalLog = options.logger.child({}, { redact: [] });
    this.#newRunId = options.newRunId;
    this.#serverTimeouts = options.serverTimeouts;
  }

  /**
   * The session a call speaks for: its `sessionId`, else the connection's default conversation, keyed
   * by caller (two callers never share what they were sent). Undefined when neither exists (a stateless
   * request without a sessionId): such a call has no session. `automatic_mcp` and `automatic_eval`
   * resolve their session here and nowhere else.
   */
  sessionKeyFor(context: CallerContext, sessionId: string | undefined): SessionKey | undefined {
    const id = sessionId ?? context.connectionId;
    return id === undefined ? undefined : { caller: context.caller, sessionId: id };
  }

  /** `automatic_mcp`: the tools for a task, full or names-only per what this session holds. */
  async automaticMcp(raw: unknown, context: CallerContext, request: SelectionRequestContext = {}): Promise<AutomaticMcpOutput> {
    const input = parseAutomaticMcpInput(raw);
    const { signal } = request;
    await untilAborted(this.#ready(), signal);
    this.#registry.retryFailed();
    this.#registry.syncTrust();
    const runId = this.#newRunId();
    const started = performance.now();
    const key = this.sessionKeyFor(context, input.sessionId);
    const limit = input.limit ?? context.profile.selection.limit;
    const selection = await this.#selector.select({
      query: input.query,
      profile: context.profile,
      limit,
      ...(signal ? { signal } : {}),
    });
    // `fresh`: the agent lost what it was sent, so nothing counts as held, and the session starts over.
    // A stateless request without a sessionId has no session: nothing to learn from across calls.
    if (key) {
      this.#learner?.selected({
        profile: context.profile,
        session: key,
        query: input.query,
        returned: selection.tools.map((tool) => tool.name),
      });
    }
    const sent = input.fresh || !key ? new Map<string, string>() : await this.#sessions.sent(key);
    signal?.throwIfAborted();
    const tools: AutomaticMcpOutput['tools'] = [];
    const unchanged: AutomaticMcpOutput['unchanged'] = [];
    for (const tool of selection.tools) {
      if (sent.get(tool.name) === tool.hash) unchanged.push({ name: tool.name, hash: tool.hash });
      else tools.push({ ...tool.definition, hash: tool.hash });
    }
    if (key && (input.fresh || tools.length > 0)) {
      const update = () => this.#remember(key, input.fresh, tools);
      if (request.afterSend) request.afterSend(() => void update());
      else await update();
    }
    const durationMs = performance.now() - started;
    this.#logger.info(
      {
        runId,
        caller: context.caller,
        ...(key ? { session: key.sessionId } : {}),
        mode: selection.mode,
        candidates: selection.candidates.length,
        chosen: selection.tools.map((tool) => tool.name),
        full: tools.length,
        unchanged: unchanged.length,
        // The model's part of the run: its choice and reasons, latency, token usage, or why it fell back.
        ...(selection.llm ? { llm: selection.llm } : {}),
        ...(this.#sessions.degraded ? { sessionStore: 'unavailable' } : {}),
        ms: Math.round(durationMs * 10) / 10,
      },
      'automatic_mcp',
    );
    const output: AutomaticMcpOutput = {
      runId,
      mode: selection.mode,
      etag: selection.view.etag,
      tools,
      unchanged,
      totalAvailable: selection.view.tools.length,
    };
    const { view } = selection;
    const event: SelectionEvent = {
      runId,
      caller: context.caller,
      ...(key ? { sessionId: key.sessionId } : {}),
      profile: context.profile,
      mode: selection.mode,
      durationMs,
      output,
      catalog: () => view.tools,
      request: { query: input.query, limit, fresh: input.fresh === true },
      selection,
    };
    this.#notify((observer) => observer.onSelection?.(event));
    return output;
  }

  /**
   * Stores what a session was sent; `fresh` replaces what it held, in one store operation: two
   * operations could land in either order (a store retries a command it had to reload), and a forget
   * landing last would leave the session empty. Issued as the response is handed over, so the session's
   * next read (which the client can only send after reading the response) comes after it. Store
   * failures are soft (FallbackSessions).
   */
  async #remember(key: SessionKey, fresh: boolean, tools: readonly { name: string; hash: string }[]): Promise<void> {
    if (tools.length > 0) await this.#sessions.record(key, tools, { replace: fresh });
    else if (fresh) await this.#sessions.forget(key);
  }

  /** `automatic_eval`: profile check, argument validation, forwarding. */
  async automaticEval(raw: unknown, context: CallerContext, request: EvalRequestContext = {}): Promise<CallToolResult> {
    // The run id, the log record and the observer's report are only built when someone reads them.
    const logged = this.#logger.isLevelEnabled('info');
    const runId = logged || this.#observer ? this.#newRunId() : '';
    const started = performance.now();
    const facts: EvalFacts = { parsed: false };
    let outcome = 'ok';
    let result: CallToolResult | undefined;
    try {
      result = await this.#evaluate(raw, context, request, facts, runId);
      if (result.isError) outcome = 'tool_error';
      return result;
    } catch (error) {
      outcome = error instanceof GatewayError ? error.code : 'cancelled';
      throw error;
    } finally {
      if (logged || this.#observer) this.#reportEval({ raw, context, runId, started, facts, outcome, logged, result });
    }
  }

  #reportEval({
    raw,
    context,
    runId,
    started,
    facts,
    outcome,
    logged,
    result,
  }: {
    raw: unknown;
    context: CallerContext;
    runId: string;
    started: number;
    facts: EvalFacts;
    outcome: string;
    logged: boolean;
    result: CallToolResult | undefined;
  }): void {
    const durationMs = performance.now() - started;
    const requested = (raw as { toolName?: unknown } | undefined)?.toolName;
    const toolName = typeof requested === 'string' ? requested : '';
    const { server } = facts;
    // The session the call spoke for, resolved as automatic_mcp resolves it; unknown when the input did not parse.
    const sessionId = facts.parsed ? this.sessionKeyFor(context, facts.sessionId)?.sessionId : undefined;
    const args = (raw as { arguments?: unknown } | undefined)?.arguments;
    if (logged) {
      // Written once the result is on its way: the caller does not wait for a log line. Its keys are
      // fixed and hold no secret, so it skips the redaction pass, which was half its cost.
      const record = {
        runId,
        caller: context.caller,
        session: sessionId,
        tool: toolName,
        server,
        outcome,
        ms: Math.round(durationMs),
      };
      setImmediate(() => this.#evalLog.info(record, 'automatic_eval'));
    }
    const report: EvalEvent = {
      runId,
      caller: context.caller,
      ...(sessionId !== undefined ? { sessionId } : {}),
      profile: context.profile,
      toolName,
      outcome,
      ...(server !== undefined ? { server } : {}),
      durationMs,
      ...(args !== undefined ? { arguments: args } : {}),
      ...(result ? { result } : {}),
    };
    this.#notify((observer) => observer.onEval?.(report));
  }

  /** Tells the observer, which must never break a call. */
  #notify(report: (observer: GatewayObserver) => void): void {
    if (!this.#observer) return;
    try {
      report(this.#observer);
    } catch (error) {
      this.#logger.warn({ err: error }, 'observer failed');
    }
  }

  async #evaluate(
    raw: unknown,
    context: CallerContext,
    request: EvalRequestContext,
    facts: EvalFacts,
    runId: string,
  ): Promise<CallToolResult> {
    const input = parseAutomaticEvalInput(raw);
    facts.parsed = true;
    facts.sessionId = input.sessionId;
    this.#registry.syncTrust();
    // No wait for every server here: the target's own start is awaited below when it is not up yet.
    let view = this.#views.forProfile(context.profile);
    let tool = view.get(input.toolName);
    if (!tool && (await this.#startServerOf(input.toolName, context.profile, request))) {
      view = this.#views.forProfile(context.profile);
      tool = view.get(input.toolName);
    }
    const held = tool ? undefined : this.#registry.heldBack(input.toolName);
    if (held && isAllowed(held.tool, context.profile.tools)) throw heldBackError(held);
    if (!tool) {
      // Unknown and forbidden look the same: a caller must not learn that a hidden tool exists.
      const didYouMean = suggestNames({ name: input.toolName, view, index: this.#selector.indexFor(view) });
      throw new GatewayError(
        'TOOL_NOT_FOUND',
        `no tool named "${input.toolName}" is available; call automatic_mcp to find tools`,
        {
          data: { didYouMean },
        },
      );
    }
    facts.server = tool.server;
    const violations = this.#validator.validate(tool, input.arguments);
    if (violations.length > 0) {
      throw new GatewayError(
        'INVALID_ARGUMENTS',
        `arguments do not match the inputSchema of ${tool.name}: ${violations.map((v) => `${v.path} ${v.message}`).join('; ')}`,
        { data: { tool: { name: tool.name, inputSchema: tool.definition.inputSchema }, violations } },
      );
    }
    // The gateway's own tools run here; their changes are logged with the run id, so they always get one.
    if (this.#builtin && tool.server === this.#builtin.server) {
      return this.#builtin.call(tool.tool, input.arguments, { ...context, runId: runId || this.#newRunId() });
    }
    // The smaller of the server's and the profile's timeouts wins; a server without one defers to the profile.
    const timeoutMs = Math.min(this.#serverTimeouts.get(tool.server) ?? Infinity, context.profile.eval.timeoutMs);
    const started = performance.now();
    const result = await this.#registry.call(tool.server, {
      tool: tool.tool,
      arguments: input.arguments,
      timeoutMs,
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.onProgress ? { onProgress: request.onProgress } : {}),
      ...(request.relay ? { relay: request.relay } : {}),
    });
    // The call reached the tool: the session's recent requests become evidence for it.
    const session = this.sessionKeyFor(context, input.sessionId);
    if (session) this.#learner?.used({ profile: context.profile, session, tool });
    // The tool's own result, as it came: agent frameworks hand `_meta` to the model as text, so the
    // server and the time go to the log record and the observer, and into `_meta` only on request.
    if (!context.profile.eval.meta) return result;
    const durationMs = Math.round(performance.now() - started);
    return { ...result, _meta: { ...result._meta, 'automcp/server': tool.server, 'automcp/durationMs': durationMs } };
  }

  /**
   * A server that has never listed its tools (still starting, or failed at start) has no part in the
   * catalog, so its tools cannot be found. When the profile's globs would allow the name, start the
   * server and look again: the caller gets the tool, or DOWNSTREAM_UNAVAILABLE rather than a misleading
   * TOOL_NOT_FOUND. Servers whose tools are known are never started here (the view already decided),
   * and a readOnly profile, which cannot be judged before the tools are known, learns nothing from a
   * failed start.
   */
  async #startServerOf(name: string, profile: Profile, request: EvalRequestContext): Promise<boolean> {
    const parts = splitQualifiedName(name);
    const connection = parts && this.#registry.connection(parts.server);
    if (!parts || !connection || connection.state === 'up') return false;
    if ((this.#catalog.server(parts.server)?.tools.length ?? 0) > 0) return false;
    if (!matchesAny(name, profile.tools.allow) || matchesAny(name, profile.tools.deny)) return false;
    try {
      // A remote server nobody signed in to yet can be signed in to through the caller's client.
      await connection.ensureAvailable({
        ...(request.relay ? { relay: request.relay } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      });
    } catch (error) {
      if (profile.tools.readOnly) return false;
      throw error;
    }
    return true;
  }

  /** Every definition this profile can see: what a client would load without the gateway. */
  fullCatalog(profile: Profile): ToolDefinition[] {
    return this.#views.forProfile(profile).tools.map((tool) => tool.definition);
  }
}

/**
 * `promise`, or a rejection with the signal's reason as soon as `signal` aborts (the work behind the
 * promise goes on; only this caller stops waiting for it).
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}
