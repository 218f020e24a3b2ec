/**
 * A session store that fails (as Redis does when it is down) never turns into a tool error: the
 * session counts as empty, so automatic_mcp sends full definitions, and the log says why once per
 * outage and once when the store is back. The real outage, with a real Redis, is in redis.int.test.ts.
 */
import { Writable } from 'node:stream';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { MemorySessionStore } from '../../src/session/memory.js';
import type { RecordOptions, SessionKey, SessionStore } from '../../src/session/store.js';
import { parseLogLines } from '../helpers/gateway.js';
import {
  automaticMcp,
  callTool,
  FakeDownstream,
  makeProfile,
  startInProcessGateway,
  toolDefinition,
  type InProcessGateway,
} from '../helpers/inprocess.js';

/** A memory store that can be switched off: every operation then rejects, as a store whose server is away. */
class SwitchableStore implements SessionStore {
  readonly #inner = new MemorySessionStore({ ttlSeconds: 3600, maxSessions: 100 });
  down = false;
  calls = 0;

  async sent(key: SessionKey) {
    return this.#check(() => this.#inner.sent(key));
  }
  async record(key: SessionKey, tools: readonly { name: string; hash: string }[], options?: RecordOptions) {
    return this.#check(() => this.#inner.record(key, tools, options));
  }
  async forget(key: SessionKey) {
    return this.#check(() => this.#inner.forget(key));
  }
  size() {
    return this.#inner.size();
  }
  async #check<T>(run: () => Promise<T>): Promise<T> {
    this.calls += 1;
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    return run();
  }
}

const ok = (text: string): CallToolResult => ({ content: [{ type: 'text', text }] });
const files = () =>
  new FakeDownstream('files', [
    { definition: toolDefinition('read_file', 'Read the contents of a text file.'), handler: () => ok('text') },
    { definition: toolDefinition('list_folder', 'List the files in a folder.'), handler: () => ok('[]') },
  ]);

let running: InProcessGateway | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start() {
  let written = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written += chunk.toString('utf8');
      done();
    },
  });
  const store = new SwitchableStore();
  running = await startInProcessGateway({
    servers: [files()],
    sessions: store,
    gatewayOptions: { logger: createLogger({ level: 'debug', destination }) },
  });
  const client = await running.connect(makeProfile('default'));
  const logs = () => parseLogLines(written);
  return { store, client, logs };
}

describe('a failing session store', () => {
  it('degrades to full definitions without an error, warns once per outage and says when it is back', async () => {
    const { store, client, logs } = await start();
    const query = { query: 'read a text file', sessionId: 'conv-1', limit: 2 };
    const first = await automaticMcp(client, query);
    expect(first.tools.length).toBeGreaterThan(0);
    expect((await automaticMcp(client, query)).tools).toEqual([]);

    store.down = true;
    const callsBefore = store.calls;
    for (let i = 0; i < 3; i++) {
      const degraded = await automaticMcp(client, query);
      // The store cannot say what this session holds, so it gets everything in full again.
      expect(degraded.tools.map((tool) => tool.name)).toEqual(first.tools.map((tool) => tool.name));
      expect(degraded.unchanged).toEqual([]);
    }
    const fresh = await automaticMcp(client, { ...query, fresh: true });
    expect(fresh.tools.map((tool) => tool.name)).toEqual(first.tools.map((tool) => tool.name));
    expect(store.calls).toBeGreaterThan(callsBefore);
    // Tool calls do not touch the session store, and are not affected by its outage.
    const evaluated = await callTool(client, 'automatic_eval', { toolName: 'files.read_file' });
    expect(evaluated.isError).toBeFalsy();

    const warnings = logs().filter((line) => line.sessionStore === 'unavailable' && line.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ reason: 'connect ECONNREFUSED 127.0.0.1:6379' });
    expect(warnings[0]?.msg).toMatch(/full definitions/);
    const calls = logs().filter((line) => line.msg === 'automatic_mcp');
    expect(calls.slice(-4).every((line) => line.sessionStore === 'unavailable')).toBe(true);

    store.down = false;
    await automaticMcp(client, query);
    const repeat = await automaticMcp(client, query);
    expect(repeat.tools).toEqual([]);
    expect(repeat.unchanged.map((tool) => tool.name)).toEqual(first.tools.map((tool) => tool.name));
    expect(logs().filter((line) => line.sessionStore === 'back' && line.level === 30)).toHaveLength(1);
    expect(
      logs()
        .filter((line) => line.msg === 'automatic_mcp')
        .at(-1)?.sessionStore,
    ).toBeUndefined();

    // A second outage is a second warning.
    store.down = true;
    await automaticMcp(client, query);
    await automaticMcp(client, query);
    expect(logs().filter((line) => line.sessionStore === 'unavailable' && line.level === 40)).toHaveLength(2);
  });
});
