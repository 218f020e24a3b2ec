/**
 * Transports to downstream servers. stdio children get our environment's safe defaults plus their own
 * `env`, and their stderr is read line by line into our log — never passed to our stdout, which in stdio
 * mode belongs to the upstream JSON-RPC stream. Remote servers speak Streamable HTTP, with the older
 * SSE transport as the fallback for servers that predate it.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
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
    const requestInit = spec.headers ? { headers: spec.headers } : undefined;
    if (kind === 'sse-fallback') {
      return new SSEClientTransport(url, requestInit ? { requestInit } : {});
    }
    return new StreamableHTTPClientTransport(url, requestInit ? { requestInit } : {});
  };
}
