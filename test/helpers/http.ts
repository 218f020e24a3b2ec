/**
 * `automcp serve --http --port 0` as a real process: waits for the log line that gives its port, and
 * connects SDK clients over Streamable HTTP with a bearer token. Raw requests (stateless JSON-RPC, no
 * token, other callers' session ids) go through `fetch`. Callers stop what they start in `finally`.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parseLogLines, waitFor, type LogLine } from './gateway.js';
import { spawnServe, type Exit, type RawServe } from './rawServe.js';

/** A running HTTP gateway process. */
export interface HttpServed {
  /** `http://127.0.0.1:PORT` */
  base: string;
  /** `${base}/mcp` */
  mcpUrl: string;
  process: RawServe;
  logLines(): LogLine[];
  /** SIGTERM, then wait for the exit (SIGKILL after 10 s). */
  stop(): Promise<Exit>;
}

/** Starts `serve --http --port 0 --config configDir ...extraArgs` and waits until it listens. */
export async function startHttpServe({
  configDir,
  env = {},
  extraArgs = [],
}: {
  configDir: string;
  env?: Record<string, string>;
  extraArgs?: string[];
}): Promise<HttpServed> {
  const process = spawnServe({ args: ['--http', '--port', '0', '--config', configDir, ...extraArgs], env });
  const logLines = () => parseLogLines(process.stderr());
  try {
    const listening = await waitFor(
      () => logLines().find((line) => line.msg === 'automcp serving on http'),
      30_000,
      `the listening log line; stderr:\n${process.stderr()}`,
    );
    const base = `http://127.0.0.1:${String(listening.port)}`;
    return {
      base,
      mcpUrl: `${base}/mcp`,
      process,
      logLines,
      async stop() {
        process.child.kill('SIGTERM');
        const timer = setTimeout(() => process.kill(), 10_000);
        const exit = await process.exited;
        clearTimeout(timer);
        return exit;
      },
    };
  } catch (error) {
    process.kill();
    throw error;
  }
}

/** An SDK client connected over Streamable HTTP, sending `Authorization: Bearer token` when given. */
export async function connectHttpClient(mcpUrl: string, token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: token !== undefined ? { headers: { Authorization: `Bearer ${token}` } } : {},
  });
  const client = new Client({ name: 'automcp-http-test', version: '0.0.0' }, { capabilities: {} });
  await client.connect(transport);
  return client;
}

/** A JSON-RPC POST to /mcp without an MCP session (a stateless client); returns status and the first message. */
export async function postRpc({
  mcpUrl,
  token,
  method,
  params,
  headers = {},
}: {
  mcpUrl: string;
  token?: string;
  method: string;
  params?: Record<string, unknown>;
  headers?: Record<string, string>;
}): Promise<{ status: number; headers: Headers; message: Record<string, unknown> | undefined }> {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...(token !== undefined ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params !== undefined ? { params } : {}) }),
  });
  const text = await response.text();
  // An SSE body carries the response as `data:` lines; a JSON body is the message itself.
  const data = text.startsWith('{')
    ? text
    : text
        .split('\n')
        .find((line) => line.startsWith('data: '))
        ?.slice(6);
  return {
    status: response.status,
    headers: response.headers,
    message: data ? (JSON.parse(data) as Record<string, unknown>) : undefined,
  };
}

/** Reads one sample of a Prometheus exposition: the value of `name{labels}` (labels in any order), or undefined. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (
      Object.entries(labels).every(([key, value]) => found[key] === value) &&
      Object.keys(found).length === Object.keys(labels).length
    ) {
      return Number(match[3]);
    }
  }
  return undefined;
}
