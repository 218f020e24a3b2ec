/**
 * Stateless HTTP requests (no Mcp-Session-Id) without a sessionId belong to no conversation: they get
 * full definitions and record nothing, so however many arrive they never fill `session.maxSessions`
 * and push out the session of a live conversation — in the in-process store and in Redis alike.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AutomaticMcpOutput } from '../../src/gateway/core.js';
import { createGateway, type Gateway } from '../../src/gateway/create.js';
import { createCallerAuth } from '../../src/http/auth.js';
import { startHttpGateway, type HttpGateway } from '../../src/http/server.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { createRedisSessionStore } from '../../src/session/redis.js';
import type { SessionStore } from '../../src/session/store.js';
import { connectHttpClient, postRpc } from '../helpers/http.js';
import { FakeDownstream, inMemoryTransports, makeProfile, runtimeFor, toolDefinition } from '../helpers/inprocess.js';
import { startRedisServer, type RedisServer } from '../helpers/redis.js';

const MAX_SESSIONS = 3;

const echo = () =>
  new FakeDownstream('echo', [
    {
      definition: toolDefinition('say', 'Say a message back.'),
      handler: () => ({ content: [{ type: 'text', text: 'said' }] }),
    },
  ]);

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
}, 60_000);
afterAll(async () => redis?.close());

const stores: [string, () => Promise<SessionStore | undefined>][] = [
  ['memory', async () => undefined],
  [
    'redis',
    () =>
      createRedisSessionStore({
        url: redis.url,
        ttlSeconds: 3600,
        maxSessions: MAX_SESSIONS,
        keyPrefix: `stateless${randomBytes(3).toString('hex')}:`,
        sizeRefreshMs: 0,
      }),
  ],
];

describe.each(stores)('stateless requests without a sessionId (%s store)', (_name, makeStore) => {
  let gateway: Gateway | undefined;
  let http: HttpGateway | undefined;
  let store: SessionStore | undefined;
  afterEach(async () => {
    await http?.close();
    await gateway?.close();
    await store?.close?.();
  });

  it('remember nothing, so a live session is never evicted by them', async () => {
    store = await makeStore();
    const config = runtimeFor(['echo'], { maxSessions: MAX_SESSIONS });
    gateway = await createGateway({ config, transports: inMemoryTransports([echo()]), ...(store ? { sessions: store } : {}) });
    const auth = await createCallerAuth({ config, fallback: makeProfile('default') });
    http = await startHttpGateway({
      gateway,
      auth,
      logger: createSilentLogger(),
      host: '127.0.0.1',
      port: 0,
      isReady: () => true,
      idleMs: 60_000,
    });
    const url = http.url;
    const select = async (client: Client) =>
      ((await client.callTool({ name: 'automatic_mcp', arguments: { query: 'say a message' } })) as CallToolResult)
        .structuredContent as AutomaticMcpOutput;
    const statelessSelect = async (args: Record<string, unknown>) => {
      const answer = await postRpc({
        mcpUrl: url,
        method: 'tools/call',
        params: { name: 'automatic_mcp', arguments: { query: 'say a message', ...args } },
      });
      expect(answer.status).toBe(200);
      return (answer.message?.result as CallToolResult).structuredContent as AutomaticMcpOutput;
    };
    const sessions = gateway.sessions;
    const live = await connectHttpClient(url);
    try {
      expect((await select(live)).tools).toHaveLength(1);
      await expect.poll(() => sessions.size()).toBe(1);
      for (let i = 0; i < 3 * MAX_SESSIONS; i++) {
        // Nothing is held for them, so every answer carries the full definition.
        expect((await statelessSelect({})).tools.map((tool) => tool.name)).toEqual(['echo.say']);
      }
      // The live conversation still holds its definition: names only.
      const again = await select(live);
      expect(again.tools).toHaveLength(0);
      expect(again.unchanged.map((tool) => tool.name)).toEqual(['echo.say']);
      expect(sessions.size()).toBe(1);
      // A stateless request that names its conversation is remembered as before.
      expect((await statelessSelect({ sessionId: 'conv-1' })).tools).toHaveLength(1);
      expect((await statelessSelect({ sessionId: 'conv-1' })).unchanged).toHaveLength(1);
      expect(sessions.size()).toBe(2);
    } finally {
      await live.close();
    }
  });
});
