/**
 * Sessions shared through a real Redis by two real `automcp serve` processes: a repeat call on the
 * second process gets names only; while Redis is stopped, calls still succeed with full definitions and
 * the log says why; once Redis is back, names-only answers return without restarting anything. Redis
 * requires a password here, which must never show in logs or in `automcp check`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, writeConfigDir, type TempConfig } from './helpers/config.js';
import { evalTool, runCli, selectTools, serveGateway, waitFor, type McpOutput, type ServedGateway } from './helpers/gateway.js';
import { startRedisServer, type RedisServer } from './helpers/redis.js';

const PASSWORD = `pw${randomBytes(8).toString('hex')}`;
const QUERY = { query: 'echo a message back', limit: 2 };

let redis: RedisServer;
let config: TempConfig;
let first: ServedGateway;
let second: ServedGateway;
let env: Record<string, string>;

beforeAll(async () => {
  redis = await startRedisServer({ password: PASSWORD });
  // The URL, password included, reaches the config through ${VAR}, as a deployment would pass it.
  env = { AUTOMCP_TEST_REDIS_URL: redis.url };
  config = await writeConfigDir({
    runtime: {
      servers: { echo: fixtureServer('echo', { description: 'Echoes messages and adds numbers' }) },
      session: { store: 'redis', redisUrl: '${AUTOMCP_TEST_REDIS_URL}', redisKeyPrefix: `int${randomBytes(3).toString('hex')}:` },
    },
    profiles: { default: { description: 'Everything.' } },
  });
  [first, second] = await Promise.all([
    serveGateway({ configDir: config.dir, env }),
    serveGateway({ configDir: config.dir, env }),
  ]);
  // Selections wait for slow servers only a few seconds; on a busy machine the fixture may take longer.
  await Promise.all(
    [first, second].map((gateway) => gateway.waitForLog((line) => line.msg === 'downstream servers started', 60_000)),
  );
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([first?.close(), second?.close()]);
  await redis?.close();
  await config?.cleanup();
});

const names = (tools: { name: string }[]) => tools.map((tool) => tool.name);

const cli = (args: string[]) => runCli(args, env);

describe('two gateway processes sharing one Redis', () => {
  let full: McpOutput;

  it('a session started on one process gets names only on the other', async () => {
    full = await selectTools(first.client, { ...QUERY, sessionId: 'shared-1' });
    expect(full.tools.length).toBeGreaterThan(0);
    expect(full.unchanged).toEqual([]);

    const repeat = await selectTools(second.client, { ...QUERY, sessionId: 'shared-1' });
    expect(repeat.tools).toEqual([]);
    expect(repeat.unchanged).toEqual(full.tools.map((tool) => ({ name: tool.name, hash: tool.hash })));

    // Another conversation, and the process's own default session, start empty.
    expect(names((await selectTools(second.client, { ...QUERY, sessionId: 'shared-2' })).tools)).toEqual(names(full.tools));
    expect(names((await selectTools(second.client, QUERY)).tools)).toEqual(names(full.tools));
  });

  it('fresh on one process makes the other send everything again too', async () => {
    await selectTools(first.client, { ...QUERY, sessionId: 'shared-fresh' });
    expect((await selectTools(second.client, { ...QUERY, sessionId: 'shared-fresh' })).tools).toEqual([]);
    expect(names((await selectTools(second.client, { ...QUERY, sessionId: 'shared-fresh', fresh: true })).tools)).toEqual(
      names(full.tools),
    );
    expect((await selectTools(first.client, { ...QUERY, sessionId: 'shared-fresh' })).tools).toEqual([]);
  });

  it('automcp select shares a named session through Redis, but each run without --session starts empty', async () => {
    const select = async (extra: string[]) => {
      const result = await cli(['select', '--config', config.dir, '--json', '--limit', '2', ...extra, QUERY.query]);
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as McpOutput;
    };
    const once = await select([]);
    expect(once.tools.length).toBeGreaterThan(0);
    expect(names((await select([])).tools)).toEqual(names(once.tools));
    expect(names((await select(['--session', 'cli-shared'])).tools)).toEqual(names(once.tools));
    const repeat = await select(['--session', 'cli-shared']);
    expect(repeat.tools).toEqual([]);
    expect(names(repeat.unchanged)).toEqual(names(once.tools));
  }, 120_000);

  it('automcp check reports that Redis answers, without the password', async () => {
    const result = await cli(['check', '--config', config.dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`ok\\s+session store redis: redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}\\S* answers PING`),
    );
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  });

  it('while Redis is stopped, calls succeed with full definitions and the log says why', async () => {
    await redis.stop();
    try {
      for (const gateway of [first, second]) {
        const output = await selectTools(gateway.client, { ...QUERY, sessionId: 'shared-1' });
        // The session did hold these, but nobody can tell now: everything comes in full.
        expect(names(output.tools)).toEqual(names(full.tools));
        expect(output.unchanged).toEqual([]);
        const again = await selectTools(gateway.client, { ...QUERY, sessionId: 'shared-1' });
        expect(names(again.tools)).toEqual(names(full.tools));
        const warning = await gateway.waitForLog((line) => line.sessionStore === 'unavailable' && line.level === 40);
        expect(warning.msg).toMatch(/session store unavailable; sending full definitions/);
        expect(typeof warning.reason).toBe('string');
        // Running tools does not depend on the session store.
        const echoed = await evalTool(gateway.client, 'echo.echo', { message: 'still here' });
        expect(echoed.isError).toBeFalsy();
      }
      const checked = await cli(['check', '--config', config.dir]);
      expect(checked.code).toBe(1);
      expect(checked.stdout).toMatch(/ERR session store redis: redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\S* does not answer/);
      expect(checked.stdout + checked.stderr).not.toContain(PASSWORD);
    } finally {
      await redis.start();
    }
    // One warning per outage, however many calls it affected.
    for (const gateway of [first, second]) {
      expect(gateway.logLines().filter((line) => line.sessionStore === 'unavailable' && line.level === 40)).toHaveLength(1);
    }
  });

  it('once Redis is back, repeats are names-only again, across both processes', async () => {
    // The client reconnects on its own (backing off to 2 s); the restarted Redis starts empty.
    const repeat = await waitFor(
      async () => {
        await selectTools(first.client, { ...QUERY, sessionId: 'after-restart' });
        const output = await selectTools(second.client, { ...QUERY, sessionId: 'after-restart' });
        return output.unchanged.length > 0 ? output : undefined;
      },
      30_000,
      'names-only answers after Redis restarted',
    );
    expect(repeat.tools).toEqual([]);
    expect(names(repeat.unchanged)).toEqual(names(full.tools));
    for (const gateway of [first, second]) {
      const back = await gateway.waitForLog((line) => line.sessionStore === 'back');
      expect(back.level).toBe(30);
    }
    expect(first.stderr() + second.stderr()).not.toContain(PASSWORD);
  });
});
