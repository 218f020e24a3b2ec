/**
 * The dashboard's routes: `/ui` and its pages are one static shell (HTML, a small script, a style
 * sheet, all shipped in the package), and every datum comes from the JSON API under `/ui/api/`, which
 * takes the same `Authorization: Bearer` token as `/mcp`. The shell holds no data, so it is served to
 * anyone who can reach the port; the page keeps the token a person pastes (or passes in the URL's
 * fragment, which browsers never send to a server) in sessionStorage and sends it on each API call.
 * No cookie is set, so another site cannot make the browser call the API with the person's rights
 * (the API needs a header only this page's script adds), and a POST must be JSON for the same reason
 * when no token is needed. Without callers, only loopback Host names are answered, as for `/mcp`.
 *
 * A caller sees its own runs and savings and tries its own profile; server status is shared.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Profile } from '../config/load.js';
import type { AutomaticMcpOutput } from '../gateway/core.js';
import { isLoopbackHost, type Authenticated, type CallerAuth } from '../http/auth.js';
import type { Logger } from '../logging/logger.js';
import type { GatewayStatus } from '../state/statusFile.js';
import { parseSince, type TraceQuery } from '../traces/query.js';
import { openTraceReader } from '../traces/store.js';
import { rankingRows, savingsSeries } from './views.js';

/** Where the dashboard's data comes from: a running `serve --http`, or `automcp ui` reading the state directory. */
export interface UiSource {
  /** `serve` (inside a gateway) or `ui` (the standalone command). */
  mode: 'serve' | 'ui';
  /** `<stateDir>/runs`. */
  runsDir: string;
  /** The running gateways and their servers. */
  gateways(): Promise<GatewayStatus[]>;
  /** Profile names a caller without a token may try. */
  profiles(): Promise<string[]>;
  loadProfile(name: string): Promise<Profile>;
  /** What `automatic_mcp` returns to a new conversation, with the tokens of the answer and of the full catalog. */
  select(input: {
    query: string;
    limit?: number;
    profile: Profile;
    caller: string;
  }): Promise<{ output: AutomaticMcpOutput; tokens: { sent: number; catalog: number } }>;
}

/** Options of {@link createUiHandler}. */
export interface UiOptions {
  auth: CallerAuth;
  source: UiSource;
  logger: Logger;
}

/** The static files of the shell, by URL path under /ui/. */
const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};
/** Page paths the shell answers; the script draws the page from the path. */
const PAGES = new Set(['', 'servers', 'runs', 'savings', 'try']);
const STATIC_DIR = new URL('./static/', import.meta.url);
/** Most runs one list returns. */
const MAX_RUNS = 500;
/** Most selections the savings chart reads. */
const MAX_SAVINGS_RUNS = 20_000;

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** True for the paths the dashboard owns. */
export function isUiPath(path: string): boolean {
  return path === '/ui' || path.startsWith('/ui/');
}

/** Serves `/ui` and `/ui/api/*`. */
export function createUiHandler({
  auth,
  source,
  logger,
}: UiOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const assets = new Map<string, Buffer>();
  const asset = async (name: string) => {
    let body = assets.get(name);
    if (!body) {
      body = await readFile(new URL(name, STATIC_DIR));
      assets.set(name, body);
    }
    return body;
  };

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/^\/ui\/?/, '');
    if (!auth.required && !isLoopbackHost(hostname(req))) {
      return sendJson(res, 403, { error: 'forbidden_host', message: 'without callers, /ui answers only loopback Host names' });
    }
    if (path.startsWith('api/')) {
      const who = auth.authenticate(req.headers.authorization);
      if (typeof who === 'string') {
        logger.warn({ reason: who, remote: req.socket.remoteAddress, path: url.pathname }, 'unauthorized request');
        return sendJson(
          res,
          401,
          { error: who, message: 'send Authorization: Bearer <token> of a configured caller' },
          { 'WWW-Authenticate': 'Bearer realm="automcp"' },
        );
      }
      return api(req, res, path.slice(4), url.searchParams, who);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method_not_allowed' });
    if (PAGES.has(path.replace(/\/$/, ''))) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', ...SECURITY_HEADERS }).end(await asset('index.html'));
      return;
    }
    const type = ASSETS[path];
    if (type === undefined) return sendJson(res, 404, { error: 'not_found', message: 'the dashboard is at /ui' });
    res.writeHead(200, { 'Content-Type': type, ...SECURITY_HEADERS }).end(await asset(path));
  };

  async function api(req: IncomingMessage, res: ServerResponse, route: string, params: URLSearchParams, who: Authenticated) {
    // A caller sees its own runs; without callers (loopback only) every run is the one person's.
    const scope = auth.required ? who.caller : (params.get('caller') ?? undefined);
    if (req.method === 'GET' && route === 'me') {
      const profiles = auth.required ? [who.profile.name] : await source.profiles();
      return sendJson(res, 200, {
        mode: source.mode,
        auth: auth.required,
        caller: who.caller,
        profile: who.profile.name,
        profiles,
      });
    }
    if (req.method === 'GET' && route === 'servers') return sendJson(res, 200, { gateways: await source.gateways() });
    const reader = openTraceReader(source.runsDir);
    if (req.method === 'GET' && route === 'runs') {
      const query: TraceQuery = { limit: clampLimit(params.get('limit')) };
      if (scope !== undefined && scope !== '') query.caller = scope;
      const tool = params.get('tool');
      if (tool) query.tool = tool;
      const kind = params.get('kind');
      if (kind === 'selection' || kind === 'eval') query.kind = kind;
      const since = params.get('since');
      if (since) {
        const time = parseSince(since, Date.now());
        if (time === undefined)
          return sendJson(res, 400, { error: 'bad_since', message: `"${since}" is not a time: use 30m, 1h, 2d or a date` });
        query.since = time;
      }
      return sendJson(res, 200, { runs: await reader.list(query) });
    }
    if (req.method === 'GET' && route.startsWith('runs/')) {
      const run = await reader.get(decodeURIComponent(route.slice(5)));
      // Another caller's run is answered like an unknown one.
      if (!run || (auth.required && run.caller !== who.caller))
        return sendJson(res, 404, { error: 'not_found', message: 'no such run' });
      return sendJson(res, 200, { run, ...(run.kind === 'selection' ? { rows: rankingRows(run) } : {}) });
    }
    if (req.method === 'GET' && route === 'savings') {
      const query: TraceQuery = { kind: 'selection', limit: MAX_SAVINGS_RUNS };
      if (scope !== undefined && scope !== '') query.caller = scope;
      const since = params.get('since');
      if (since) query.since = parseSince(since, Date.now()) ?? 0;
      const runs = await reader.list(query);
      // The callers present, so a person without callers can pick one (a caller sees only itself).
      const callers = auth.required
        ? [who.caller]
        : [...new Set((await reader.list({ kind: 'selection', limit: MAX_SAVINGS_RUNS })).map((run) => run.caller))].sort();
      return sendJson(res, 200, { ...savingsSeries(runs), callers });
    }
    if (req.method === 'POST' && route === 'try') {
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
        return sendJson(res, 415, { error: 'unsupported_media_type', message: 'send the request as application/json' });
      }
      const body = (await readJson(req)) as { query?: unknown; profile?: unknown; limit?: unknown } | undefined;
      const query = typeof body?.query === 'string' ? body.query.trim() : '';
      if (query === '') return sendJson(res, 400, { error: 'invalid_input', message: 'say what the task is' });
      const limit =
        typeof body?.limit === 'number' && Number.isInteger(body.limit) && body.limit >= 1 && body.limit <= 50
          ? body.limit
          : undefined;
      let profile = who.profile;
      if (!auth.required && typeof body?.profile === 'string' && body.profile !== who.profile.name) {
        profile = await source.loadProfile(body.profile).catch(() => who.profile);
        if (profile === who.profile)
          return sendJson(res, 400, { error: 'invalid_input', message: `no profile "${body.profile}"` });
      }
      const result = await source.select({ query, ...(limit !== undefined ? { limit } : {}), profile, caller: who.caller });
      return sendJson(res, 200, { profile: profile.name, ...result });
    }
    return sendJson(res, 404, { error: 'not_found', message: `no API route ${req.method ?? ''} /ui/api/${route}` });
  }
}

/** A connection id for a dashboard try: a new conversation each time, so full definitions come back. */
export function tryConnectionId(): string {
  return `#ui_${randomBytes(8).toString('hex')}`;
}

function clampLimit(text: string | null): number {
  const value = Number(text ?? 100);
  return Number.isInteger(value) && value >= 1 ? Math.min(value, MAX_RUNS) : 100;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function hostname(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res
    .writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers })
    .end(JSON.stringify(body));
}
