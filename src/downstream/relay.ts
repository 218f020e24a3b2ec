/**
 * What a downstream server asks of *the client* — sampling, elicitation, roots, log messages — goes
 * to the upstream client it belongs to. Downstream clients always declare `sampling`, `elicitation`
 * (form and URL) and `roots`, because a server may start before any client connects and many servers
 * decide at initialization which tools to offer; whether the calling client can honour a request is
 * decided when the request arrives, and refused there with an error that says so.
 *
 * Attribution. A stdio server has no per-request stream, and the SDK's client transport for HTTP does
 * not say which stream a request arrived on, so a server → client request cannot be tied to the call
 * that caused it by its envelope. It goes where it provably belongs: to the one upstream connection
 * ("peer") that has used this server process and is still open. When calls of that peer are in flight
 * the request is related to the oldest of them (so Streamable HTTP upstream puts it on that call's
 * stream, and an elicitation pauses that call's timeout). When two or more open peers have used the
 * process, nobody can tell whose request it is: it is refused with a clear error to the server and
 * logged (`instances: per-caller` gives each caller a process of its own).
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitationCompleteNotificationSchema,
  ElicitRequestSchema,
  ErrorCode,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  type CallToolResult,
  type ClientCapabilities,
  type LoggingMessageNotification,
  type Progress,
  type RequestId,
  type Root,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Logger } from '../logging/logger.js';

/** What downstream clients declare: everything the relay can pass on to an upstream client. */
export const RELAYED_CAPABILITIES: ClientCapabilities = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: { listChanged: true },
};

/** One upstream connection, as the relay sees it. */
export interface UpstreamPeer {
  /** The caller's name, for logs. */
  readonly caller: string;
  /** True once the connection has closed: it can no longer be asked anything. */
  readonly closed: boolean;
  /** Roots pinned by the caller's profile; they replace the client's. */
  readonly pinnedRoots: readonly Root[] | undefined;
  /** What the client declared at initialization (undefined before it has). */
  capabilities(): ClientCapabilities | undefined;
  /** Sends `request` to the client, related to the upstream request `relatedRequestId` when given. */
  request(request: ServerRequest, relatedRequestId: RequestId | undefined, signal: AbortSignal): Promise<unknown>;
  /** Sends a notification to the client (the end of a URL elicitation), related as `request` is. */
  notify(notification: ServerNotification, relatedRequestId: RequestId | undefined): void;
  /** Sends a log message if the client's `logging/setLevel` level lets it through. */
  log(params: LoggingMessageNotification['params'], relatedRequestId: RequestId | undefined): void;
  /** Told each result a tool of `server` returned to this peer: its resource URIs become readable. */
  sawResult(server: string, result: CallToolResult): void;
}

/** One upstream tools/call in flight to a downstream server. */
export interface CallRelay {
  peer: UpstreamPeer;
  requestId: RequestId;
}

/** A call in flight, with its timeout. */
interface ActiveCall extends CallRelay {
  /** Held while an elicitation waits; its signal ends requests related to the call. */
  deadline: Pick<CallDeadline, 'hold' | 'signal'>;
}

/** The relay of one downstream connection: which peers use it, which calls are in flight. */
export class DownstreamRelay {
  readonly #server: string;
  readonly #logger: Logger;
  readonly #users = new Set<UpstreamPeer>();
  readonly #calls = new Set<ActiveCall>();

  constructor(server: string, logger: Logger) {
    this.#server = server;
    this.#logger = logger;
  }

  /** Records a call in flight; the returned function ends it. */
  begin(call: ActiveCall): () => void {
    this.#prune();
    this.#users.add(call.peer);
    this.#calls.add(call);
    return () => this.#calls.delete(call);
  }

  /** Marks `peer` as a user of this process (a resource read, for instance). */
  use(peer: UpstreamPeer): void {
    this.#prune();
    this.#users.add(peer);
  }

  /** How many connections the relay holds as users of the process (closed ones go at the next call). */
  get users(): number {
    return this.#users.size;
  }

  /** Forgets connections that have closed (every stateless HTTP request is one), so none is kept alive. */
  #prune(): void {
    for (const peer of this.#users) if (peer.closed) this.#users.delete(peer);
  }

  /** True when `peer` has used the process: its roots changes concern this server. */
  usedBy(peer: UpstreamPeer): boolean {
    return this.#users.has(peer);
  }

  /** Forgets every user: the process they used has stopped. */
  reset(): void {
    this.#users.clear();
  }

  /** Installs the request and notification handlers on a client that declared {@link RELAYED_CAPABILITIES}. */
  install(client: Client): void {
    client.setRequestHandler(
      CreateMessageRequestSchema,
      (request, extra) => this.#relay(request, extra.signal, 'sampling') as Promise<never>,
    );
    client.setRequestHandler(ElicitRequestSchema, (request, extra) => {
      const mode = request.params.mode ?? 'form';
      return this.#relay(request, extra.signal, 'elicitation', mode) as Promise<never>;
    });
    client.setRequestHandler(ListRootsRequestSchema, async (request, extra) => {
      const { peer } = this.#attribute(request.method);
      if (peer.pinnedRoots) return { roots: [...peer.pinnedRoots] };
      return this.#relay(request, extra.signal, 'roots') as Promise<never>;
    });
    // The server's word that a URL elicitation finished out of band goes where the elicitation went.
    client.setNotificationHandler(ElicitationCompleteNotificationSchema, (notification) => {
      const target = this.#target();
      if (target.peer?.capabilities()?.elicitation?.url !== undefined) {
        target.peer.notify(notification, target.call?.requestId);
      }
    });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      const params = { ...notification.params, logger: this.#server };
      const target = this.#target();
      if (target.peer) {
        target.peer.log(params, target.call?.requestId);
        return;
      }
      this.#logger.info({ level: params.level, data: params.data, logger: notification.params.logger }, 'server log message');
    });
  }

  /** The peer (and call) a request belongs to, or a refusal. */
  #target(): { peer?: UpstreamPeer; call?: ActiveCall; reason?: string } {
    this.#prune();
    if (this.#users.size === 0) return { reason: 'no client has called this server yet' };
    if (this.#users.size > 1) {
      const callers = [...new Set([...this.#users].map((peer) => peer.caller))].join(', ');
      return {
        reason: `${this.#users.size} client connections (${callers}) share this server process, so the request cannot be attributed to one of them; give the server \`instances: per-caller\``,
      };
    }
    const [peer] = this.#users as unknown as [UpstreamPeer];
    const call = [...this.#calls].find((active) => active.peer === peer);
    return call ? { peer, call } : { peer };
  }

  #attribute(method: string): { peer: UpstreamPeer; call?: ActiveCall } {
    const target = this.#target();
    if (target.peer) return target.call ? { peer: target.peer, call: target.call } : { peer: target.peer };
    this.#logger.warn({ method, reason: target.reason }, 'refused a request from the server: no single client it belongs to');
    throw new McpError(ErrorCode.InvalidRequest, `automcp cannot relay ${method}: ${target.reason}`);
  }

  async #relay(
    request: ServerRequest,
    signal: AbortSignal,
    capability: 'sampling' | 'elicitation' | 'roots',
    mode?: 'form' | 'url',
  ): Promise<unknown> {
    const { peer, call } = this.#attribute(request.method);
    const declared = peer.capabilities()?.[capability] as Record<string, unknown> | undefined;
    // A client that declares `elicitation: {}` supports form mode only (the protocol's default).
    const supported =
      declared !== undefined &&
      (capability !== 'elicitation' ||
        (mode === 'url' ? declared.url !== undefined : declared.form !== undefined || declared.url === undefined));
    if (!supported) {
      const what = capability === 'elicitation' ? `${mode}-mode elicitation` : capability;
      this.#logger.info({ method: request.method, caller: peer.caller }, 'the calling client lacks a capability; refused');
      throw new McpError(
        ErrorCode.InvalidRequest,
        `the client calling through automcp (caller "${peer.caller}") does not support ${what}, so ${request.method} cannot be answered`,
      );
    }
    // A person may take a while to answer: the call's own timeout waits.
    const release = capability === 'elicitation' ? call?.deadline.hold() : undefined;
    try {
      // A request related to a call does not outlive it: cancelling the call cancels the request
      // upstream too (the server that asked may never cancel it itself).
      const ends = call ? AbortSignal.any([signal, call.deadline.signal]) : signal;
      return await peer.request(request, call?.requestId, ends);
    } finally {
      release?.();
    }
  }
}

/**
 * A call's end: its timeout, which progress restarts and a held elicitation pauses, or the upstream
 * request's cancellation. Its signal aborts with the SDK's own timeout error on time-out, so a
 * timed-out call maps to DOWNSTREAM_TIMEOUT as before, and with the upstream reason on cancellation.
 */
export class CallDeadline {
  readonly #controller = new AbortController();
  readonly #ms: number;
  readonly #upstream: AbortSignal | undefined;
  readonly #cancel = () => this.#controller.abort(this.#upstream?.reason);
  #timer: NodeJS.Timeout | undefined;
  #holds = 0;

  constructor(ms: number, upstream?: AbortSignal) {
    this.#ms = ms;
    this.#upstream = upstream;
    if (upstream?.aborted) this.#controller.abort(upstream.reason);
    else upstream?.addEventListener('abort', this.#cancel, { once: true });
    this.#arm();
  }

  /** Makes `request` end with this deadline, and restart it on each progress notification. */
  govern(request: RequestOptions, onProgress: ((progress: Progress) => void) | undefined): void {
    request.signal = this.#controller.signal;
    if (onProgress) {
      request.onprogress = (progress) => {
        this.touch();
        onProgress(progress);
      };
    }
  }

  /** Aborted when the deadline passes. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Restarts the countdown (the call made progress), unless it is paused. */
  touch(): void {
    if (this.#holds === 0) this.#arm();
  }

  /** Pauses the countdown until the returned function is called; it then starts afresh. */
  hold(): () => void {
    this.#holds += 1;
    clearTimeout(this.#timer);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds -= 1;
      if (this.#holds === 0 && !this.#controller.signal.aborted) this.#arm();
    };
  }

  /** Stops the countdown for good. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#upstream?.removeEventListener('abort', this.#cancel);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#controller.abort(new McpError(ErrorCode.RequestTimeout, 'Request timed out', { timeout: this.#ms }));
    }, this.#ms);
  }
}
