/**
 * One downstream server: an SDK `Client`, its transport and its lifecycle. The connection starts on
 * demand, lists tools (following pagination), re-lists on `notifications/tools/list_changed`, and after
 * the server exits or breaks its connection the next call starts it again — after a short backoff that
 * grows with repeated failures, and not at all while the server is down (see backoff.ts). A stdio
 * server left unused for its idle timeout is stopped, and the next call starts it again. Which of
 * these may happen when is decided by the state machine in lifecycle.ts. A remote server that wants a
 * new sign-in is parked (`needs-sign-in`): calls fail at once with the command to run, and the next
 * start waits until the stored sign-in changes — it is not a crash, so nothing retries it in a loop.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Progress,
  type ReadResourceResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ServerSpec } from '../config/load.js';
import { GatewayError } from '../errors.js';
import { canOfferSignIn, signInRequired, signInUnavailable, type SignInRequiredError } from '../auth/errors.js';
import type { Logger } from '../logging/logger.js';
import { VERSION } from '../version.js';
import { RestartPolicy } from './backoff.js';
import { callError, messageOf } from './callErrors.js';
import { Lifecycle, reportedState, type ConnectionState } from './lifecycle.js';
import { CallDeadline, DownstreamRelay, RELAYED_CAPABILITIES, type CallRelay, type UpstreamPeer } from './relay.js';
import { needsClient, ToolCallLane } from './toolCalls.js';
import type { TransportFactory } from './transport.js';

export type { ConnectionState } from './lifecycle.js';

/** Default wait for a server to start and list its tools. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;

/** Default idle timeout of stdio servers, in seconds. */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 600;

/** What cancels a forwarded call: the upstream request's signal. */
export type CancelSignal = AbortSignal;

/** Options of one forwarded call. */
export interface CallOptions {
  tool: string;
  arguments: Record<string, unknown>;
  timeoutMs: number;
  /** The upstream request's signal: cancelling it cancels the downstream call. */
  signal?: CancelSignal;
  onProgress?: (progress: Progress) => void;
  /** The upstream call this one serves: what the server asks of the client during it goes there (relay.ts). */
  relay?: CallRelay;
}

/** The longest timer Node allows: the SDK's own timeout, when a {@link CallDeadline} keeps the real one. */
const NO_TIMEOUT_MS = 2 ** 31 - 1;

/** A downstream server and its SDK client. */
export class DownstreamConnection {
  readonly spec: ServerSpec;
  readonly #logger: Logger;
  readonly #transports: TransportFactory;
  readonly #onTools: (tools: Tool[]) => void | Promise<void>;
  readonly #startTimeoutMs: number;
  #client: Client | undefined;
  /** The short tools/call route of each connected client (see toolCalls.ts); none for HTTP servers. */
  readonly #lanes = new WeakMap<Client, ToolCallLane>();
  /** Tools the SDK client must call itself (output schema, tasks): see toolCalls.ts. */
  #clientOnly = new Set<string>();
  /** The transport of the current or in-flight connection, so a stop can end a start half-way. */
  #transport: Transport | undefined;
  /** Where the connection is; every state change goes through its transition table (lifecycle.ts). */
  readonly #lifecycle = new Lifecycle();
  /** Who uses this server process, and the calls in flight: where its requests to the client go. */
  readonly #relay: DownstreamRelay;
  /** The start in progress (its backoff wait included), shared by every caller that needs the server. */
  #starting: Promise<Client> | undefined;
  /** The stop in progress, which a shutdown joins and a call waits out. */
  #stopping: Promise<void> | undefined;
  #pid: number | undefined;
  #lastError: string | undefined;
  /** Why the server is parked in `needs-sign-in`; it may start again once this says the sign-in changed. */
  #signIn: SignInRequiredError | undefined;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #policy: RestartPolicy;
  /** Numbers tool-list requests so a late answer to an older one never overwrites a newer list. */
  #listRequests = 0;
  #listApplied = 0;
  /** Calls in flight, and when the server was last used: an idle stop never cuts a call short. */
  #inFlight = 0;
  #lastUsedAt: number;

  constructor(options: {
    spec: ServerSpec;
    logger: Logger;
    transports: TransportFactory;
    /** Told each tool list; the start counts as done only once what it returns has settled. */
    onTools: (tools: Tool[]) => void | Promise<void>;
    startTimeoutMs?: number;
    /** Milliseconds now, for backoff, cool-down and idle time. */
    now?: () => number;
    /** Random numbers in [0, 1), for backoff jitter. */
    random?: () => number;
    /** Waits `ms`; injected with the clock so tests that move time never sleep. */
    sleep?: (ms: number) => Promise<void>;
  }) {
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#policy = new RestartPolicy({ now: this.#now, ...(options.random ? { random: options.random } : {}) });
    this.#lastUsedAt = this.#now();
    this.spec = options.spec;
    this.#logger = options.logger.child({ server: options.spec.name });
    this.#transports = options.transports;
    this.#onTools = options.onTools;
    this.#startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.#relay = new DownstreamRelay(options.spec.name, this.#logger);
  }

  /** The server's configured name. */
  get name(): string {
    return this.spec.name;
  }

  /** Where the connection is in its life. */
  get state(): ConnectionState {
    return reportedState(this.#lifecycle.state);
  }

  /** When a down server will be tried again (ms since the epoch); undefined unless down. */
  get downUntil(): number | undefined {
    return this.#lifecycle.state === 'down' && this.#policy.down ? this.#policy.downUntil : undefined;
  }

  /** Calls in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Milliseconds since the last call started or ended. */
  idleMs(): number {
    return this.#now() - this.#lastUsedAt;
  }

  /** The child's pid for stdio servers while up. */
  get pid(): number | undefined {
    return this.#pid;
  }

  /** Why the last start failed or the connection dropped; cleared by a successful start. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /**
   * Returns a connected client, starting the server if it is not up. Concurrent callers share one
   * start. After a failure the start waits out a short backoff first; while the server is down this
   * fails at once with a DOWNSTREAM_UNAVAILABLE that says when it will be retried.
   */
  async ensure(): Promise<Client> {
    const state = this.#lifecycle.state;
    if (this.#client && state === 'up') return this.#client;
    // A call that arrives while an idle server is being stopped waits for the stop, then starts it:
    // idle stops are meant to be invisible to callers.
    if (state === 'idle-stopping') {
      await this.#stopping;
      // Unless a shutdown took the stop over meanwhile.
      if (this.#lifecycle.state === 'closed') throw this.#stoppingError();
      return this.ensure();
    }
    if (this.#starting) return this.#starting;
    if (state === 'needs-sign-in' && this.#signIn) {
      const parked = this.#signIn;
      // One stat of the token file: a login (or logout) in another terminal lets the server start again.
      if (!(await parked.changed())) throw signInUnavailable(parked);
      if (this.#signIn === parked) this.#signIn = undefined;
      return this.ensure();
    }
    // A start racing a stop would leave a child that nobody closes.
    if (!this.#lifecycle.can('start')) throw this.#stoppingError();
    const gate = this.#policy.gate();
    if (gate.kind === 'down') throw this.#downError(gate.until);
    const begin = async () => {
      if (gate.kind === 'wait') await this.#sleep(gate.ms);
      // A shutdown during the wait refuses the start.
      if (!this.#lifecycle.can('start')) throw this.#stoppingError();
      return this.#start();
    };
    this.#starting = begin().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  /**
   * Re-reads the tool list (all pages) and hands it to the catalog, unless a list requested later has
   * already been applied (two list_changed notifications in a row can be answered out of order).
   */
  async refreshTools(client?: Client): Promise<Tool[]> {
    const active = client ?? (await this.ensure());
    const request = ++this.#listRequests;
    const tools: Tool[] = [];
    let cursor: string | undefined;
    const seen = new Set<string>();
    do {
      const page = await active.listTools(cursor ? { cursor } : {}, { timeout: this.#startTimeoutMs });
      tools.push(...page.tools);
      cursor = page.nextCursor;
      // A server that hands back a cursor it already gave would loop forever.
      if (cursor !== undefined && seen.has(cursor)) break;
      if (cursor !== undefined) seen.add(cursor);
    } while (cursor);
    if (request > this.#listApplied) {
      this.#listApplied = request;
      this.#clientOnly = new Set(tools.filter(needsClient).map((tool) => tool.name));
      await this.#onTools(tools);
    }
    return tools;
  }

  /**
   * True when the server failed (to start, or after a drop) and its background backoff has run out: a
   * retry nobody waits on is due. The wait doubles with each failure, with jitter (see backoff.ts).
   * A dropped connection counts only with `dropped: true` (servers kept running with `lazy: false`);
   * others restart on their next call.
   */
  retryDue({ dropped = false }: { dropped?: boolean } = {}): boolean {
    if (this.#starting) return false;
    const state = this.#lifecycle.state;
    const eligible = state === 'failed' || state === 'down' || (dropped && state === 'closed');
    return eligible && this.#policy.retryDue();
  }

  /**
   * Like {@link ensure}, but a failure is a DOWNSTREAM_UNAVAILABLE {@link GatewayError} naming the
   * server. With the upstream call's `relay`, a server that needs sign-in is offered it first (see
   * {@link call}).
   */
  async ensureAvailable(offer: { relay?: CallRelay; signal?: AbortSignal } = {}): Promise<Client> {
    try {
      return await this.#ensureAvailable();
    } catch (error) {
      if (!(await this.#signedInThrough(error, offer.relay, offer.signal))) throw error;
      return this.#ensureAvailable();
    }
  }

  async #ensureAvailable(): Promise<Client> {
    try {
      return await this.ensure();
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      throw new GatewayError(
        'DOWNSTREAM_UNAVAILABLE',
        `server "${this.name}" could not be started or reached: ${messageOf(error)}`,
        {
          data: { server: this.name },
          cause: error,
        },
      );
    }
  }

  /**
   * Forwards a tools/call; downstream failures become {@link GatewayError}s that name the server. A
   * server that needs sign-in, called by a client that can open a URL for the person, is offered
   * sign-in through that client and the call is tried once more (auth/offer.ts).
   */
  async call(options: CallOptions): Promise<CallToolResult> {
    try {
      return await this.#call(options);
    } catch (error) {
      if (!(await this.#signedInThrough(error, options.relay, options.signal))) throw error;
      return this.#call(options);
    }
  }

  /**
   * True when `error` says the server needs sign-in and the person behind `relay` just signed in
   * through their client (auth/offer.ts); false at once when it is another error or they cannot.
   */
  async #signedInThrough(error: unknown, relay: CallRelay | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    const signIn = signInRequired(error);
    if (!signIn || signal?.aborted || !canOfferSignIn(relay, signIn)) return false;
    const { offerSignIn } = await import('../auth/offer.js');
    return offerSignIn({ error: signIn, relay, logger: this.#logger, ...(signal ? { signal } : {}) });
  }

  async #call(options: CallOptions): Promise<CallToolResult> {
    let deadline: CallDeadline | undefined;
    let endRelay: (() => void) | undefined;
    this.#inFlight += 1;
    this.#lastUsedAt = this.#now();
    try {
      // The usual case, a server that is up, goes straight to its client without two more awaits.
      const client = this.#client && this.#lifecycle.state === 'up' ? this.#client : await this.#ensureAvailable();
      const request: RequestOptions = {
        timeout: options.timeoutMs,
        // Long calls that report progress stay alive; silence still times out.
        resetTimeoutOnProgress: true,
      };
      if (options.signal) request.signal = options.signal;
      if (options.onProgress) request.onprogress = options.onProgress;
      const lane = this.#clientOnly.has(options.tool) ? undefined : this.#lanes.get(client);
      if (options.relay) {
        // The timeout is kept by the deadline rather than the SDK, so that an elicitation can pause it.
        deadline = new CallDeadline(options.timeoutMs, options.signal);
        deadline.govern(request, options.onProgress);
        request.timeout = NO_TIMEOUT_MS;
        endRelay = this.#relay.begin({ ...options.relay, deadline });
      }
      try {
        if (lane) return await lane.call(options.tool, options.arguments, request).then((result) => this.#saw(options, result));
        return this.#saw(
          options,
          (await client.callTool({ name: options.tool, arguments: options.arguments }, undefined, request)) as CallToolResult,
        );
      } catch (error) {
        if (options.signal?.aborted) throw error;
        const signIn = signInRequired(error);
        if (signIn) throw this.#park(client, signIn);
        throw callError({ server: this.name, error, timeoutMs: options.timeoutMs });
      }
    } finally {
      deadline?.dispose();
      endRelay?.();
      this.#inFlight -= 1;
      this.#lastUsedAt = this.#now();
    }
  }

  #saw(options: CallOptions, result: CallToolResult): CallToolResult {
    options.relay?.peer.sawResult(this.name, result);
    return result;
  }

  /** Reads a resource for `peer` (a URI one of this server's tools returned to it). */
  async readResource(uri: string, peer: UpstreamPeer, timeoutMs: number, signal?: AbortSignal): Promise<ReadResourceResult> {
    this.#inFlight += 1;
    this.#lastUsedAt = this.#now();
    try {
      const client = await this.ensureAvailable();
      this.#relay.use(peer);
      try {
        return await client.readResource({ uri }, { timeout: timeoutMs, ...(signal ? { signal } : {}) });
      } catch (error) {
        if (signal?.aborted) throw error;
        const signIn = signInRequired(error);
        if (signIn) throw this.#park(client, signIn);
        throw callError({ server: this.name, error, timeoutMs });
      }
    } finally {
      this.#inFlight -= 1;
      this.#lastUsedAt = this.#now();
    }
  }

  /** Tells the server that `peer`'s roots changed, if `peer` is who it asks for roots. */
  async rootsChanged(peer: UpstreamPeer): Promise<void> {
    if (!this.#client || this.#lifecycle.state !== 'up' || !this.#relay.usedBy(peer)) return;
    await this.#client.sendRootsListChanged().catch((error: unknown) => {
      this.#logger.warn({ err: messageOf(error) }, 'could not forward roots/list_changed');
    });
  }

  /** Stops the server for being unused; the next call starts it again. No-op while calls run. */
  async stopIdle(): Promise<boolean> {
    if (this.#lifecycle.state !== 'up' || this.#inFlight > 0) return false;
    this.#logger.info({ idleMs: this.idleMs() }, 'server idle; stopping it until the next call');
    this.#lifecycle.apply('idle-stop');
    this.#stopping = this.#stop();
    await this.#stopping;
    return true;
  }

  /** Stops the server; a later {@link ensure} starts it again. */
  async close(): Promise<void> {
    // Already shutting down: wait for that stop.
    if (this.#lifecycle.state === 'closing') return this.#stopping;
    // A shutdown during an idle stop takes it over: it ends `closed`, and calls waiting on it must not
    // restart the server.
    const joining = this.#lifecycle.state === 'idle-stopping';
    this.#lifecycle.apply('close');
    if (!joining) this.#stopping = this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const client = this.#client;
    const transport = this.#transport;
    this.#client = undefined;
    this.#transport = undefined;
    try {
      // Close the transport itself, not only the client: a server still starting (or one that never
      // answers the handshake) has no client yet, and its process must not outlive the gateway.
      await client?.close().catch(() => undefined);
      await transport?.close().catch(() => undefined);
      await this.#starting?.catch(() => undefined);
    } finally {
      this.#relay.reset();
      this.#pid = undefined;
      this.#stopping = undefined;
      this.#lifecycle.apply('stopped');
    }
  }

  /**
   * Connects and lists the tools. The start succeeds — and the failure count is reset — only once the
   * list is in: a server that completes the handshake but fails `tools/list` is a failed start, and
   * backs off and cools down like any other.
   */
  async #start(): Promise<Client> {
    this.#lifecycle.apply('start');
    try {
      const client = await this.#connect('primary').catch(async (error: unknown) => {
        // A server that wants sign-in wants it over SSE too.
        if (this.spec.url === undefined || this.#lifecycle.state !== 'starting' || signInRequired(error)) throw error;
        this.#logger.info({ err: messageOf(error) }, 'Streamable HTTP failed; trying the SSE transport');
        return this.#connect('sse-fallback');
      });
      this.#client = client;
      await this.refreshTools(client);
      // A shutdown that arrived while the list was being read has already taken the client away.
      if (!this.#lifecycle.can('listed')) throw this.#stoppingError();
      this.#lifecycle.apply('listed');
      this.#lastError = undefined;
      this.#policy.recordSuccess();
      this.#lastUsedAt = this.#now();
      this.#logger.info({ pid: this.#pid }, 'server up');
      return client;
    } catch (error) {
      // A stop in progress owns the cleanup and the final state; the attempt does not count as a failure.
      if (this.#lifecycle.state !== 'starting') throw error;
      const client = this.#client;
      const transport = this.#transport;
      this.#client = undefined;
      this.#transport = undefined;
      this.#pid = undefined;
      await client?.close().catch(() => undefined);
      await transport?.close().catch(() => undefined);
      const signIn = signInRequired(error);
      if (signIn) {
        this.#signIn = signIn;
        this.#lifecycle.apply('sign-in-needed');
        this.#lastError = signIn.message;
        this.#logger.warn({ err: signIn.message }, 'server needs sign-in; calls fail until it is signed in again');
        throw signInUnavailable(signIn);
      }
      this.#policy.recordFailure();
      const down = this.#policy.down;
      this.#lifecycle.apply(down ? 'give-up' : 'fail');
      this.#lastError = messageOf(error);
      this.#logger.warn(
        { err: this.#lastError, failures: this.#policy.failures, ...this.#downFields() },
        down ? 'server failed to start too often; down for a cool-down' : 'server failed to start',
      );
      throw error;
    }
  }

  async #connect(kind: 'primary' | 'sse-fallback'): Promise<Client> {
    const transport = this.#transports(this.spec, kind);
    this.#transport = transport;
    // Declared whether or not a client that can honour them is connected yet (see relay.ts).
    const client = new Client({ name: 'automcp', version: VERSION }, { capabilities: RELAYED_CAPABILITIES });
    this.#relay.install(client);
    client.onerror = (error) => {
      // The SDK reports unparseable stdout lines here and carries on; say which server sent them.
      const garbage = error instanceof SyntaxError || (error as { name?: string }).name === 'ZodError';
      this.#logger.warn(
        { err: messageOf(error) },
        garbage ? 'server wrote something to stdout that is not JSON-RPC (ignored)' : 'transport error',
      );
    };
    client.onclose = () => {
      // Only a drop while up counts: a start that loses its connection fails on its own, and a stop
      // closes the connection on purpose.
      if (this.#client !== client || !this.#lifecycle.offer('drop')) return;
      this.#client = undefined;
      this.#transport = undefined;
      this.#pid = undefined;
      this.#lastError = 'connection closed';
      this.#relay.reset();
      this.#policy.recordFailure();
      this.#logger.warn('server connection closed; the next call restarts it');
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      this.#logger.info('tool list changed; re-listing');
      await this.refreshTools(client).catch((error: unknown) => {
        this.#logger.warn({ err: messageOf(error) }, 'could not re-list tools after list_changed');
      });
    });
    try {
      await client.connect(transport, { timeout: this.#startTimeoutMs });
    } catch (error) {
      // A failed handshake leaves the child running; end it before trying anything else.
      await transport.close().catch(() => undefined);
      throw error;
    }
    this.#pid = (transport as { pid?: number | null }).pid ?? undefined;
    if (this.spec.url === undefined) this.#lanes.set(client, new ToolCallLane(transport));
    return client;
  }

  /**
   * A server that was up refused us mid-call (its sign-in was revoked, or a refresh was refused): park
   * it, drop the connection, and tell the caller what to run.
   */
  #park(client: Client, signIn: SignInRequiredError): GatewayError {
    if (this.#client === client && this.#lifecycle.offer('sign-in-needed')) {
      const transport = this.#transport;
      this.#client = undefined;
      this.#transport = undefined;
      this.#signIn = signIn;
      this.#lastError = signIn.message;
      this.#relay.reset();
      this.#logger.warn({ err: signIn.message }, 'server needs sign-in; calls fail until it is signed in again');
      void client.close().catch(() => undefined);
      void transport?.close().catch(() => undefined);
    }
    return signInUnavailable(signIn);
  }

  #stoppingError(): Error {
    return new Error(`server "${this.name}" is stopping`);
  }

  #downError(until: number): GatewayError {
    const retryAt = new Date(until).toISOString();
    return new GatewayError(
      'DOWNSTREAM_UNAVAILABLE',
      `server "${this.name}" is down after ${this.#policy.failures} failures in a row (last: ${this.#lastError ?? 'unknown'}); it will be retried at ${retryAt}`,
      { data: { server: this.name, retryAt, retryInMs: Math.max(0, until - this.#now()) } },
    );
  }

  #downFields(): Record<string, unknown> {
    return this.#policy.down ? { downUntil: new Date(this.#policy.downUntil).toISOString() } : {};
  }
}
