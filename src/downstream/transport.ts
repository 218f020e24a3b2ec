/**
 * Transports to downstream servers. stdio children get our environment's safe defaults plus their own
 * `env`, and their stderr is read line by line into our log — never passed to our stdout, which in stdio
 * mode belongs to the upstream JSON-RPC stream. Remote servers speak Streamable HTTP, with the older
 * SSE transport as the fallback for servers that predate it. The SDK's HTTP client transports (and the
 * OAuth and EventSource code under them, ~0.1 s to load) are loaded when a remote server first starts.
 * A remote server without a configured `Authorization` header gets the sign-in of `automcp login` as
 * the transport's auth provider (src/auth/): its token goes with each request and is refreshed before
 * it expires, and "unauthorized" comes out as a SignInRequiredError.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import type { ServerSpec } from '../config/load.js';
import type { Logger } from '../logging/logger.js';
import type { RemoteSignIn } from '../auth/remote.js';
import { usesSignIn } from '../auth/signInState.js';
import type { ProcessGuard } from './processes.js';
import { GroupStdioTransport } from './stdio.js';

/** Which transport to try: the primary one, or the SSE fallback of an HTTP server. */
export type TransportKind = 'primary' | 'sse-fallback';

/** Makes a transport for a server; injected so tests can use in-memory pairs. */
export type TransportFactory = (spec: ServerSpec, kind: TransportKind) => Transport;

/** Where remote servers' sign-ins are kept, and the clock that stamps their expiry. */
export interface SignInOptions {
  stateDir: string;
  now?: () => number;
  /** Where `oauth.clientSecretEnv` is read; default the process environment. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The real transports: stdio for `command`, Streamable HTTP (then SSE) for `url`. With a `guard`, stdio
 * children run in their own process group and are registered with it (see processes.ts); on Windows,
 * or without a guard, the SDK's own stdio transport is used. With `signIn`, remote servers use the
 * sign-ins kept in its state directory.
 */
export function createTransportFactory({
  logger,
  cwd,
  guard,
  signIn,
}: {
  logger: Logger;
  cwd: string;
  guard?: ProcessGuard;
  signIn?: SignInOptions;
}): TransportFactory {
  return (spec, kind) => {
    if (spec.command !== undefined) {
      const options = {
        command: spec.command,
        args: spec.args ?? [],
        env: { ...getDefaultEnvironment(), ...spec.env },
        cwd: spec.cwd ?? cwd,
      };
      const transport =
        guard?.groups === true
          ? new GroupStdioTransport({ ...options, guard })
          : new StdioClientTransport({ ...options, stderr: 'pipe' });
      const stderr = transport.stderr as Readable | null;
      if (stderr) {
        const lines = createInterface({ input: stderr });
        lines.on('line', (line) => {
          if (line.trim() !== '') logger.info({ server: spec.name, stream: 'stderr' }, line);
        });
      }
      return transport;
    }
    const url = new URL(spec.url as string);
    return new DeferredTransport(async () => {
      let remote: RemoteSignIn | undefined;
      if (signIn && usesSignIn(spec)) {
        const { createRemoteSignIn } = await import('../auth/remote.js');
        remote = createRemoteSignIn({ spec, ...signIn });
      }
      const options = {
        ...(spec.headers ? { requestInit: { headers: spec.headers } } : {}),
        ...(remote ? { authProvider: remote.provider } : {}),
      };
      if (kind === 'sse-fallback') {
        const { SSEClientTransport } = await import('@modelcontextprotocol/sdk/client/sse.js');
        return { transport: new SSEClientTransport(url, options), remote };
      }
      const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
      return { transport: new StreamableHTTPClientTransport(url, options), remote };
    });
  };
}

/** What a deferred transport builds: the SDK transport, and the server's sign-in when it has one. */
interface Built {
  transport: Transport;
  remote: RemoteSignIn | undefined;
}

/**
 * A transport whose implementation is loaded and built when it starts; it then passes everything
 * through — after refreshing a token about to expire, for a server that signs in.
 */
class DeferredTransport implements Transport {
  readonly #build: () => Promise<Built>;
  #inner: Transport | undefined;
  #remote: RemoteSignIn | undefined;
  #protocolVersion: string | undefined;
  #closed = false;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  constructor(build: () => Promise<Built>) {
    this.#build = build;
  }

  get sessionId(): string | undefined {
    return this.#inner?.sessionId;
  }

  async start(): Promise<void> {
    const { transport: inner, remote } = await this.#build();
    if (this.#closed) throw new Error('transport closed before it started');
    this.#inner = inner;
    this.#remote = remote;
    inner.onclose = () => this.onclose?.();
    inner.onerror = (error) => this.onerror?.(error);
    inner.onmessage = (message, extra) => this.onmessage?.(message, extra);
    if (this.#protocolVersion !== undefined) inner.setProtocolVersion?.(this.#protocolVersion);
    if (!remote) return inner.start();
    await inner.start().catch(async (error: unknown) => {
      throw await remote.translate(error);
    });
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (!this.#inner) return Promise.reject(new Error('transport not started'));
    if (!this.#remote) return this.#inner.send(message, options);
    return this.#sendSignedIn(this.#inner, this.#remote, message, options);
  }

  async #sendSignedIn(inner: Transport, remote: RemoteSignIn, message: JSONRPCMessage, options?: TransportSendOptions) {
    try {
      await remote.freshen();
      await inner.send(message, options);
    } catch (error) {
      throw await remote.translate(error);
    }
  }

  async close(): Promise<void> {
    if (this.#inner) return this.#inner.close();
    if (!this.#closed) {
      this.#closed = true;
      this.onclose?.();
    }
  }

  setProtocolVersion(version: string): void {
    this.#protocolVersion = version;
    this.#inner?.setProtocolVersion?.(version);
  }
}
