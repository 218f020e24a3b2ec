/**
 * The gateway over Streamable HTTP (node:http and the SDK's StreamableHTTPServerTransport). `/mcp`
 * serves MCP: a request that initializes opens an MCP session (Mcp-Session-Id) with its own transport
 * and gateway connection, bound to the caller that opened it; a request without a session id is
 * stateless and gets a fresh transport and connection of its own. `/healthz`, `/readyz` and
 * `/metrics` need no token; `/ui` (the dashboard, ui/server.ts) checks the same tokens for its data.
 * node:http is enough for five routes; a framework would add nothing here.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as NodeServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Gateway } from '../gateway/create.js';
import type { Logger } from '../logging/logger.js';
import { isLoopbackHost, type Authenticated, type CallerAuth } from './auth.js';
import type { GatewayMetrics } from './metrics.js';

/** Largest JSON-RPC body read from a client (the SDK's own default). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A running HTTP gateway. */
export interface HttpGateway {
  /** The MCP endpoint, e.g. `http://127.0.0.1:8931/mcp`. */
  readonly url: string;
  readonly port: number;
  /** Open MCP sessions. */
  sessions(): number;
  /** Closes MCP sessions idle longer than the idle timeout; runs on a timer too. Returns how many. */
  sweepIdle(): Promise<number>;
  /** Stops accepting, closes every MCP session and open connection (the gateway itself stays up). */
  close(): Promise<void>;
}

/** Options of {@link startHttpGateway}. */
export interface HttpGatewayOptions {
  gateway: Gateway;
  auth: CallerAuth;
  logger: Logger;
  host: string;
  /** 0 picks a free port. */
  port: number;
  metrics?: GatewayMetrics;
  /** True once start-up finished (the catalog is loaded): what /readyz reports. */
  isReady: () => boolean;
  /** An MCP session with no request for this long is closed. */
  idleMs: number;
  /** Milliseconds now (injectable so idle expiry is testable without sleeping). */
  now?: () => number;
  /** Serves the dashboard at `/ui` (ui/server.ts), which checks the same tokens itself. */
  ui?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

interface McpSession {
  transport: StreamableHTTPServerTransport;
  caller: string;
  lastSeen: number;
  /** Requests still open on it (a GET event stream stays open): never idle while > 0. */
  open: number;
}

/** Listens and serves until closed. */
export async function startHttpGateway(options: HttpGatewayOptions): Promise<HttpGateway> {
  const { gateway, auth, logger, metrics } = options;
  const now = options.now ?? Date.now;
  const sessions = new Map<string, McpSession>();
  metrics?.attach({ gateway, mcpSessions: () => sessions.size });

  const closeSession = async (id: string, reason: string) => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    logger.info({ caller: session.caller, mcpSession: id, reason }, 'mcp session closed');
    // Closing the transport closes its gateway connection too.
    await session.transport.close().catch(() => undefined);
  };

  const openSession = async (req: IncomingMessage, res: ServerResponse, body: unknown, who: Authenticated) => {
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, caller: who.caller, lastSeen: now(), open: 0 });
        logger.info({ caller: who.caller, profile: who.profile.name, mcpSession: id }, 'mcp session opened');
      },
      onsessionclosed: (id) => void closeSession(id, 'client ended it'),
    });
    // Set before connect: the SDK chains its own handler after this one.
    transport.onclose = () => {
      if (transport.sessionId !== undefined) void closeSession(transport.sessionId, 'transport closed');
    };
    await gateway.connect({ transport, profile: who.profile, caller: who.caller });
    await transport.handleRequest(req, res, body);
    // An initialize the transport refused (bad headers, bad version) opened no session: nothing may linger.
    if (transport.sessionId === undefined || !sessions.has(transport.sessionId)) await transport.close();
  };

  // A stateless request's connection ends with it, so it has no default session: without a sessionId it
  // is remembered nowhere (and gets full definitions), rather than filling the store with sessions that
  // no later request could name and pushing live ones out of it.
  const serveStateless = async (req: IncomingMessage, res: ServerResponse, body: unknown, who: Authenticated) => {
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const server = await gateway.connect({ transport, profile: who.profile, caller: who.caller, stateless: true });
    res.on('close', () => void server.close().catch(() => undefined));
    await transport.handleRequest(req, res, body);
  };

  const serveMcp = async (req: IncomingMessage, res: ServerResponse) => {
    const verdict = auth.authenticate(req.headers.authorization);
    if (typeof verdict === 'string') {
      // The reason and where it came from, never the token.
      logger.warn({ reason: verdict, remote: req.socket.remoteAddress, method: req.method }, 'unauthorized request');
      metrics?.unauthorized(verdict);
      const challenge = verdict === 'missing_token' ? 'Bearer realm="automcp"' : 'Bearer realm="automcp", error="invalid_token"';
      return sendJson(
        res,
        401,
        { error: verdict, message: 'send Authorization: Bearer <token> of a configured caller' },
        {
          'WWW-Authenticate': challenge,
        },
      );
    }
    const id = header(req, 'mcp-session-id');
    if (id !== undefined) {
      const session = sessions.get(id);
      // Another caller's session id is answered like an unknown one: it must not learn the session exists.
      if (!session || session.caller !== verdict.caller) return sendRpcError(res, 404, -32001, 'Session not found');
      session.lastSeen = now();
      session.open++;
      res.on('close', () => {
        session.open--;
        session.lastSeen = now();
      });
      return session.transport.handleRequest(req, res);
    }
    if (req.method !== 'POST') {
      return sendRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required for GET and DELETE');
    }
    const body = await readJson(req);
    if (body === TOO_LARGE) return sendRpcError(res, 413, -32600, `request body over ${MAX_BODY_BYTES} bytes`);
    if (body === INVALID) return sendRpcError(res, 400, -32700, 'Parse error: the body is not JSON');
    const initializes = Array.isArray(body) ? body.some((message) => isInitializeRequest(message)) : isInitializeRequest(body);
    return initializes ? openSession(req, res, body, verdict) : serveStateless(req, res, body, verdict);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz')
      return options.isReady() ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 503, { status: 'starting' });
    if (path === '/metrics' && metrics) {
      const { contentType, body } = await metrics.render();
      res.writeHead(200, { 'Content-Type': contentType }).end(body);
      return;
    }
    if (options.ui && (path === '/ui' || path.startsWith('/ui/'))) return options.ui(req, res);
    if (path !== '/mcp') return sendJson(res, 404, { error: 'not_found', message: 'MCP is served at /mcp' });
    // Without tokens, only loopback names may reach /mcp: a web page that rebinds its DNS to 127.0.0.1 cannot.
    if (!auth.required && !isLoopbackHost(hostname(req))) {
      return sendJson(res, 403, { error: 'forbidden_host', message: 'without callers, /mcp answers only loopback Host names' });
    }
    return serveMcp(req, res);
  };

  const http: NodeServer = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, url: req.url }, 'http request failed');
      if (!res.headersSent) sendRpcError(res, 500, -32603, 'Internal error');
      else res.end();
    });
  });
  await new Promise<void>((listening, fail) => {
    http.once('error', fail);
    http.listen(options.port, options.host, () => {
      http.off('error', fail);
      listening();
    });
  });
  const { port } = http.address() as AddressInfo;

  const sweepIdle = async () => {
    const cutoff = now() - options.idleMs;
    const idle = [...sessions].filter(([, session]) => session.open === 0 && session.lastSeen < cutoff).map(([id]) => id);
    await Promise.all(idle.map((id) => closeSession(id, 'idle')));
    return idle.length;
  };
  const sweeper = setInterval(() => void sweepIdle(), Math.min(Math.max(options.idleMs / 2, 1_000), 60_000));
  sweeper.unref();

  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/mcp`,
    port,
    sessions: () => sessions.size,
    sweepIdle,
    async close() {
      clearInterval(sweeper);
      const closed = new Promise<void>((done) => http.close(() => done()));
      await Promise.all([...sessions.keys()].map((id) => closeSession(id, 'shutdown')));
      // Open event streams would hold close() forever; they have been told the session ended.
      http.closeAllConnections();
      await closed;
    },
  };
}

const TOO_LARGE = Symbol('too large');
const INVALID = Symbol('invalid');

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return TOO_LARGE;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return INVALID;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function hostname(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function sendRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}
