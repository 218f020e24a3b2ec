/**
 * The HTTP layer in process, on a loopback port with an injected clock: readiness, routes, malformed
 * requests, and idle MCP sessions closed without sleeping. The gateway behind it reaches a fake
 * downstream server over in-memory transports.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/gateway/create.js';
import { createCallerAuth } from '../../src/http/auth.js';
import { createGatewayMetrics } from '../../src/http/metrics.js';
import { startHttpGateway, type HttpGateway } from '../../src/http/server.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { connectHttpClient, postRpc } from '../helpers/http.js';
import { FakeDownstream, inMemoryTransports, makeProfile, runtimeFor, toolDefinition } from '../helpers/inprocess.js';

const echo = () =>
  new FakeDownstream('echo', [
    {
      definition: toolDefinition('say', 'Say a message back.'),
      handler: () => ({ content: [{ type: 'text', text: 'said' }] }),
    },
  ]);

describe('the HTTP layer', () => {
  let gateway: Gateway | undefined;
  let http: HttpGateway | undefined;
  afterEach(async () => {
    await http?.close();
    await gateway?.close();
  });

  async function start({ ready = () => true, now = () => 0 }: { ready?: () => boolean; now?: () => number } = {}) {
    const config = runtimeFor(['echo']);
    const metrics = createGatewayMetrics();
    gateway = await createGateway({ config, transports: inMemoryTransports([echo()]), observer: metrics.observer });
    const auth = await createCallerAuth({ config, fallback: makeProfile('default') });
    http = await startHttpGateway({
      gateway,
      auth,
      metrics,
      logger: createSilentLogger(),
      host: '127.0.0.1',
      port: 0,
      isReady: ready,
      idleMs: 60_000,
      now,
    });
    return { http, base: http.url.replace(/\/mcp$/, '') };
  }

  it('reports 503 on /readyz until start-up finished, then 200', async () => {
    let ready = false;
    const { base } = await start({ ready: () => ready });
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('answers unknown paths, bodies that are not JSON and session-less GETs with what is wrong', async () => {
    const { http: served, base } = await start();
    expect((await fetch(`${base}/other`)).status).toBe(404);
    const notJson = await fetch(served.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: number } }).error.code).toBe(-32700);
    const get = await fetch(served.url, { headers: { Accept: 'text/event-stream' } });
    expect(get.status).toBe(400);
    const unknown = await postRpc({ mcpUrl: served.url, method: 'tools/list', headers: { 'Mcp-Session-Id': 'no-such-session' } });
    expect(unknown.status).toBe(404);
  });

  it('closes MCP sessions with no open connection and no request past the timeout', async () => {
    let clock = 1_000;
    const { http: served } = await start({ now: () => clock });
    // Raw sessions hold no connection between requests, like a client that went away without DELETE.
    const open = async () => {
      const init = await postRpc({
        mcpUrl: served.url,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
      });
      return init.headers.get('mcp-session-id')!;
    };
    const list = (id: string) =>
      postRpc({
        mcpUrl: served.url,
        method: 'tools/list',
        headers: { 'Mcp-Session-Id': id, 'Mcp-Protocol-Version': '2025-06-18' },
      });
    const gone = await open();
    const used = await open();
    // An SDK client keeps its event stream open: connected, so never idle however long it is quiet.
    const connected = await connectHttpClient(served.url);
    try {
      expect(served.sessions()).toBe(3);
      clock += 50_000;
      expect((await list(used)).status).toBe(200);
      expect(await served.sweepIdle()).toBe(0);
      clock += 20_000;
      // gone: 70 s without a request; used: 20 s since its last one.
      expect(await served.sweepIdle()).toBe(1);
      expect((await list(gone)).status).toBe(404);
      expect((await list(used)).status).toBe(200);
      clock += 120_000;
      expect(await served.sweepIdle()).toBe(1);
      expect((await connected.listTools()).tools).toHaveLength(2);
      expect(served.sessions()).toBe(1);
    } finally {
      await connected.close();
    }
  });
});
