/**
 * `fresh: true` on a real Redis whose script cache is empty (a new or restarted Redis): the session
 * must end up holding exactly what the fresh answer sent. Forgetting and recording as two commands let
 * the store reorder them (a script Redis had not loaded is sent again after a NOSCRIPT answer, behind
 * the other command), so the forget landed last and the next call sent everything again.
 */
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisSessionStore } from '../../src/session/redis.js';
import { startRedisServer, type RedisServer } from '../helpers/redis.js';
import {
  automaticMcp,
  FakeDownstream,
  makeProfile,
  startInProcessGateway,
  toolDefinition,
  type InProcessGateway,
} from '../helpers/inprocess.js';

let redis: RedisServer;
let running: InProcessGateway | undefined;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterEach(async () => {
  await running?.close();
  running = undefined;
});
afterAll(async () => {
  await redis?.close();
});

const ok = { content: [{ type: 'text' as const, text: 'ok' }] };

describe('fresh on a Redis session store', () => {
  it('leaves the session holding what the fresh answer sent, whatever scripts Redis has loaded', async () => {
    const raw = createClient({ url: redis.url });
    await raw.connect();
    await raw.sendCommand(['SCRIPT', 'FLUSH']);
    await raw.close();

    const sessions = await createRedisSessionStore({ url: redis.url, ttlSeconds: 60, maxSessions: 100, keyPrefix: 'fresh:' });
    running = await startInProcessGateway({
      servers: [
        new FakeDownstream('files', [
          { definition: toolDefinition('read_file', 'Read the contents of a text file.'), handler: () => ok },
          { definition: toolDefinition('list_folder', 'List the files in a folder.'), handler: () => ok },
        ]),
      ],
      sessions,
    });
    const client = await running.connect(makeProfile('default'));
    const query = { query: 'read a text file', sessionId: 'conv-1', limit: 2 };

    const first = await automaticMcp(client, query);
    expect(first.tools.length).toBeGreaterThan(0);
    const fresh = await automaticMcp(client, { ...query, fresh: true });
    expect(fresh.tools.map((tool) => tool.name)).toEqual(first.tools.map((tool) => tool.name));
    const repeat = await automaticMcp(client, query);
    expect(repeat.tools).toEqual([]);
    expect(repeat.unchanged.map((tool) => tool.name)).toEqual(first.tools.map((tool) => tool.name));
  });
});
