/**
 * One downstream server: an SDK `Client`, its transport and its lifecycle. The connection starts on
 * demand, lists tools, re-lists on `notifications/tools/list_changed`, and after the server exits or
 * breaks its connection the next call starts it again — after a backoff that grows with repeated
 * failures, and not at all while the server is down (backoff.ts). A stdio server left unused for its
 * idle timeout is stopped until the next call. Which of these may happen when is decided by the state
 * machine in lifecycle.ts; this class does them and keeps the state between its parts: sdkClient.ts
 * (connecting), toolList.ts, forward.ts (one call), usage.ts (idleness), signInPark.ts (sign-in).
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult, ReadResourceResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ServerSpec } from '../config/load.js';
import { GatewayError } from '../errors.js';
import { signInRequired, signInUnavailable, type SignInRequiredError } from '../auth/errors.js';
import type { Logger } from '../logging/logger.js';
import { RestartPolicy } from './backoff.js';
import { callError, downError, messageOf, stoppingError, unavailableError } from './callErrors.js';
import { forwardCall, type CallOptions } from './forward.js';
import { Lifecycle, reportedState, type ConnectionState } from './lifecycle.js';
import { DownstreamRelay, type CallRelay, type UpstreamPeer } from './relay.js';
import { closeQuietly, connectClient } from './sdkClient.js';
import { SignInPark } from './signInPark.js';
import type { ToolCallLane } from './toolCalls.js';
import { ToolList } from './toolList.js';
import type { TransportFactory } from './transport.js';
import { Usage } from './usage.js';

export type { ConnectionState } from './lifecycle.js';
export type { CallOptions, CancelSignal } from './forward.js';
export { DEFAULT_IDLE_TIMEOUT_SECONDS } from './usage.js';

/** Default wait for a server to start and list its tools. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;

/** A downstream server and its SDK client. */
export class DownstreamConnection {
  readonly spec: ServerSpec;
  readonly #logger: Logger;
  readonly #transports: TransportFactory;
  readonly #startTimeoutMs: number;
  #client: Client | undefined;
  /** The short tools/call route of each connected client (see toolCalls.ts); none for HTTP servers. */
  readonly #lanes = new WeakMap<Client, ToolCallLane>();
  /** The tool list the catalog has, and which tools the SDK client must call itself. */
  readonly #tools: ToolList;
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
  /** Why the server is parked in `needs-sign-in`, and when it may start again. */
  readonly #signIn: SignInPark;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #policy: RestartPolicy;
  /** Calls in flight, and when the server was last used: an idle stop never cuts a call short. */
  readonly #usage: Usage;

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
    this.#usage = new Usage(this.#now);
    this.spec = options.spec;
    this.#logger = options.logger.child({ server: options.spec.name });
    this.#transports = options.transports;
    this.#startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.#tools = new ToolList({ onTools: options.onTools, timeoutMs: this.#startTimeoutMs });
    this.#relay = new DownstreamRelay(options.spec.name, this.#logger);
    this.#signIn = new SignInPark(this.#logger);
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
    return this.#usage.inFlight;
  }

  /** Milliseconds since the last call started or ended. */
  idleMs(): number {
    return this.#usage.idleMs();
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
      if (this.#lifecycle.state === 'closed') throw stoppingError(this.name);
      return this.ensure();
    }
    if (this.#starting) return this.#starting;
    if (state === 'needs-sign-in' && this.#signIn.parked) {
      // Throws until the stored sign-in changes; then the server may start again.
      await this.#signIn.release();
      return this.ensure();
    }
    // A start racing a stop would leave a child that nobody closes.
    if (!this.#lifecycle.can('start')) throw stoppingError(this.name);
    const gate = this.#policy.gate();
    if (gate.kind === 'down') {
      const { failures } = this.#policy;
      throw downError({ server: this.name, failures, lastError: this.#lastError, until: gate.until, now: this.#now() });
    }
    const begin = async () => {
      if (gate.kind === 'wait') await this.#sleep(gate.ms);
      // A shutdown during the wait refuses the start.
      if (!this.#lifecycle.can('start')) throw stoppingError(this.name);
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
    return this.#tools.refresh(client ?? (await this.ensure()));
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
  ensureAvailable(offer: { relay?: CallRelay; signal?: AbortSignal } = {}): Promise<Client> {
    return this.#signIn.retrying(() => this.#ensureAvailable(), offer);
  }

  async #ensureAvailable(): Promise<Client> {
    try {
      return await this.ensure();
    } catch (error) {
      throw error instanceof GatewayError ? error : unavailableError({ server: this.name, error });
    }
  }

  /**
   * Forwards a tools/call; downstream failures become {@link GatewayError}s that name the server. A
   * server that needs sign-in, called by a client that can open a URL for the person, is offered
   * sign-in through that client and the call is tried once more (auth/offer.ts).
   */
  call(options: CallOptions): Promise<CallToolResult> {
    return this.#signIn.retrying(() => this.#call(options), options);
  }

  async #call(options: CallOptions): Promise<CallToolResult> {
    // begin/end rather than Usage.during: every forwarded call comes here, so it spares a closure and a frame.
    this.#usage.begin();
    try {
      // The usual case, a server that is up, goes straight to its client without two more awaits.
      const client = this.#client && this.#lifecycle.state === 'up' ? this.#client : await this.#ensureAvailable();
      const lane = this.#tools.clientOnly(options.tool) ? undefined : this.#lanes.get(client);
      try {
        return await forwardCall({ server: this.name, client, lane, relay: this.#relay, options });
      } catch (error) {
        throw this.#callFailure(client, error, options.signal, options.timeoutMs);
      }
    } finally {
      this.#usage.end();
    }
  }

  /** Reads a resource for `peer` (a URI one of this server's tools returned to it). */
  async readResource(uri: string, peer: UpstreamPeer, timeoutMs: number, signal?: AbortSignal): Promise<ReadResourceResult> {
    return this.#usage.during(async () => {
      const client = await this.ensureAvailable();
      this.#relay.use(peer);
      try {
        return await client.readResource({ uri }, { timeout: timeoutMs, ...(signal ? { signal } : {}) });
      } catch (error) {
        throw this.#callFailure(client, error, signal, timeoutMs);
      }
    });
  }

  /**
   * What a failed request on `client` becomes: the caller's own cancellation as it is, a refused
   * sign-in parks the server, anything else a GatewayError naming the server.
   */
  #callFailure(client: Client, error: unknown, signal: AbortSignal | undefined, timeoutMs: number): unknown {
    if (signal?.aborted) return error;
    const signIn = signInRequired(error);
    if (signIn) return this.#park(client, signIn);
    return callError({ server: this.name, error, timeoutMs });
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
    if (this.#lifecycle.state !== 'up' || this.#usage.inFlight > 0) return false;
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
    const { client, transport } = this.#detach();
    try {
      // Close the transport itself, not only the client: a server still starting (or one that never
      // answers the handshake) has no client yet, and its process must not outlive the gateway.
      await closeQuietly(client, transport);
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
      const { client, pid, lane } = await connectClient({
        spec: this.spec,
        transports: this.#transports,
        relay: this.#relay,
        logger: this.#logger,
        timeoutMs: this.#startTimeoutMs,
        onTransport: (transport) => (this.#transport = transport),
        stillStarting: () => this.#lifecycle.state === 'starting',
        onClose: (closed) => this.#dropped(closed),
        relist: (listed) => this.refreshTools(listed),
      });
      this.#pid = pid;
      if (lane) this.#lanes.set(client, lane);
      this.#client = client;
      await this.refreshTools(client);
      // A shutdown that arrived while the list was being read has already taken the client away.
      if (!this.#lifecycle.can('listed')) throw stoppingError(this.name);
      this.#lifecycle.apply('listed');
      this.#lastError = undefined;
      this.#policy.recordSuccess();
      this.#usage.touch();
      this.#logger.info({ pid: this.#pid }, 'server up');
      return client;
    } catch (error) {
      // A stop in progress owns the cleanup and the final state; the attempt does not count as a failure.
      if (this.#lifecycle.state !== 'starting') throw error;
      const { client, transport } = this.#detach();
      this.#pid = undefined;
      await closeQuietly(client, transport);
      const signIn = signInRequired(error);
      if (signIn) {
        this.#lifecycle.apply('sign-in-needed');
        this.#lastError = signIn.message;
        throw this.#signIn.park(signIn);
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

  /**
   * The connection closed by itself. Only a drop while up counts: a start that loses its connection
   * fails on its own, and a stop closes the connection on purpose.
   */
  #dropped(client: Client): void {
    if (this.#client !== client || !this.#lifecycle.offer('drop')) return;
    this.#detach();
    this.#pid = undefined;
    this.#lastError = 'connection closed';
    this.#relay.reset();
    this.#policy.recordFailure();
    this.#logger.warn('server connection closed; the next call restarts it');
  }

  /**
   * A server that was up refused us mid-call (its sign-in was revoked, or a refresh was refused): park
   * it, drop the connection, and tell the caller what to run.
   */
  #park(client: Client, signIn: SignInRequiredError): GatewayError {
    if (this.#client !== client || !this.#lifecycle.offer('sign-in-needed')) return signInUnavailable(signIn);
    const { transport } = this.#detach();
    this.#lastError = signIn.message;
    this.#relay.reset();
    const parked = this.#signIn.park(signIn);
    void client.close().catch(() => undefined);
    void transport?.close().catch(() => undefined);
    return parked;
  }

  /** Lets go of the current client and transport; the caller closes what it got back. */
  #detach(): { client: Client | undefined; transport: Transport | undefined } {
    const detached = { client: this.#client, transport: this.#transport };
    this.#client = undefined;
    this.#transport = undefined;
    return detached;
  }

  #downFields(): Record<string, unknown> {
    return this.#policy.down ? { downUntil: new Date(this.#policy.downUntil).toISOString() } : {};
  }
}
