/**
 * Transports to downstream servers. stdio children get our environment's safe defaults plus their own
 * `env`, and their stderr is read line by line into our log — never passed to our stdout, which in stdio
 * mode belongs to the upstream JSON-RPC stream. Remote servers speak Streamable HTTP, with the older
 * SSE transport as the fallback for servers that predate it. The SDK's HTTP client transports (and the
 * OAuth and EventSource code under them, ~0.1 s to load) are loaded when a remote server first starts.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import type { ServerSpec } from '../config/load.js';
import type { Logger } from '../logging/logger.js';
import type { ProcessGuard } from './processes.js';
import { GroupStdioTransport } from './stdio.js';

/** Which transport to try: the primary one, or the SSE fallback of an HTTP server. */
export type TransportKind = 'primary' | 'sse-fallback';

/** Makes a transport for a server; injected so tests can use in-memory pairs. */
export type TransportFactory = (spec: ServerSpec, kind: TransportKind) => Transport;

/**
 * The real transports: stdio for `command`, Streamable HTTP (then SSE) for `url`. With a `guard`, stdio
 * children run in their own process group and are registered with it (see processes.ts); on Windows,
 * or without a guard, the SDK's own stdio transport is used.
 */
export function createTransportFactory({
  logger,
  cwd,
  guard,
}: {
  logger: Logger;
  cwd: string;
  guard?: ProcessGuard;
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
    const options = spec.headers ? { requestInit: { headers: spec.headers } } : {};
    return new DeferredTransport(async () => {
      if (kind === 'sse-fallback') {
        const { SSEClientTransport } = await import('@modelcontextprotocol/sdk/client/sse.js');
        return new SSEClientTransport(url, options);
      }
      const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
      return new StreamableHTTPClientTransport(url, options);
    });
  };
}

/** A transport whose implementation is loaded and built when it starts; it then passes everything through. */
class DeferredTransport implements Transport {
  readonly #build: () => Promise<Transport>;
  #inner: Transport | undefined;
  #protocolVersion: string | undefined;
  #closed = false;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  constructor(build: () => Promise<Transport>) {
    this.#build = build;
  }

  get sessionId(): string | undefined {
    return this.#inner?.sessionId;
  }

  async start(): Promise<void> {
    const inner = await this.#build();
    if (this.#closed) throw new Error('transport closed before it started');
    this.#inner = inner;
    inner.onclose = () => this.onclose?.();
    inner.onerror = (error) => this.onerror?.(error);
    inner.onmessage = (message, extra) => this.onmessage?.(message, extra);
    if (this.#protocolVersion !== undefined) inner.setProtocolVersion?.(this.#protocolVersion);
    await inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (!this.#inner) return Promise.reject(new Error('transport not started'));
    return this.#inner.send(message, options);
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
