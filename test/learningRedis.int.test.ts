/**
 * Learning shared through a real Redis by two `automcp serve` processes: what one learns moves the
 * other's ranking; `automcp learned` reads it from Redis and `--forget` clears it for both; while Redis
 * is away each process keeps learning in its own memory, with one warning.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, writeConfigDir, type TempConfig } from './helpers/config.js';
import { evalTool, runCli, selectTools, serveGateway, type ServedGateway } from './helpers/gateway.js';
import { startRedisServer, type RedisServer } from './helpers/redis.js';

let redis: RedisServer;
let config: TempConfig;
let first: ServedGateway;
let second: ServedGateway;
let env: Record<string, string>;

beforeAll(async () => {
  redis = await startRedisServer();
  env = { AUTOMCP_TEST_REDIS_URL: redis.url };
  config = await writeConfigDir({
    runtime: {
      servers: { echo: fixtureServer('echo', { description: 'Echoes messages and adds numbers' }) },
      session: {
        store: 'redis',
        redisUrl: '${AUTOMCP_TEST_REDIS_URL}',
        redisKeyPrefix: `learn${randomBytes(3).toString('hex')}:`,
      },
    },
    profiles: { default: { description: 'Everything.' } },
  });
  // The first one logs at debug level, so the test can see repeated store failures that only warn once.
  [first, second] = await Promise.all([
    serveGateway({ configDir: config.dir, env, extraArgs: ['--verbose'] }),
    serveGateway({ configDir: config.dir, env }),
  ]);
  await Promise.all(
    [first, second].map((gateway) => gateway.waitForLog((line) => line.msg === 'downstream servers started', 60_000)),
  );
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([first?.close(), second?.close()]);
  await redis?.close();
  await config?.cleanup();
});

async function ranked(gateway: ServedGateway, query: string): Promise<string[]> {
  const output = await selectTools(gateway.client, { query, sessionId: 'probe', fresh: true, limit: 4 });
  return output.tools.map((tool) => tool.name);
}

describe('two gateway processes learning through one Redis', () => {
  it('what one process learns moves the other one’s ranking', async () => {
    expect(await ranked(second, 'mango chutney')).toEqual([]);
    await selectTools(first.client, { query: 'mango chutney', sessionId: 'c1' });
    expect((await evalTool(first.client, 'echo.stats', {}, { sessionId: 'c1' })).isError).toBeFalsy();
    await expect.poll(() => ranked(second, 'mango chutney'), { timeout: 20_000, interval: 500 }).toEqual(['echo.stats']);
  }, 60_000);

  it('two processes add up on the same pair', async () => {
    for (const [gateway, id] of [
      [first, 'p1'],
      [second, 'p2'],
    ] as const) {
      await selectTools(gateway.client, { query: 'papaya', sessionId: id });
      expect((await evalTool(gateway.client, 'echo.echo', { message: 'hi' }, { sessionId: id })).isError).toBeFalsy();
    }
    const weight = async () => {
      const { stdout } = await runCli(['learned', '--config', config.dir, '--json'], env);
      const report = JSON.parse(stdout) as {
        profiles: { tools: { tool: string; terms: { term: string; weight: number }[] }[] }[];
      };
      const tool = report.profiles[0]?.tools.find((entry) => entry.tool === 'echo.echo');
      return tool?.terms.find((term) => term.term === 'papaya')?.weight ?? 0;
    };
    // Not returned for "papaya" (no lexical match): each use counts double.
    await expect.poll(weight, { timeout: 20_000, interval: 500 }).toBeCloseTo(4, 3);
  }, 60_000);

  it('automcp learned --forget clears it in Redis for every process', async () => {
    const forgot = await runCli(['learned', '--config', config.dir, '--forget'], env);
    expect(forgot.code).toBe(0);
    expect(forgot.stdout).toMatch(/profile default: forgot \d+ learned pairs/);
    await expect.poll(() => ranked(first, 'mango chutney'), { timeout: 20_000, interval: 500 }).toEqual([]);
    await expect.poll(() => ranked(second, 'mango chutney'), { timeout: 20_000, interval: 500 }).toEqual([]);
  }, 60_000);

  it('while Redis is away, a process keeps learning in its own memory and warns once', async () => {
    await redis.stop();
    try {
      for (const id of ['o1', 'o2']) {
        await selectTools(first.client, { query: 'guava jelly', sessionId: id });
        expect((await evalTool(first.client, 'echo.stats', {}, { sessionId: id })).isError).toBeFalsy();
      }
      expect(await ranked(first, 'guava jelly')).toEqual(['echo.stats']);
      await first.waitForLog((line) => line.msg?.startsWith('learned-evidence store unavailable') === true, 20_000);
      // Several failed attempts (the write is retried, selections try to read), still one warning.
      const stillDown = () => first.logLines().filter((line) => line.msg === 'learned-evidence store still unavailable').length;
      await expect
        .poll(
          async () => {
            await ranked(first, 'guava jelly');
            return stillDown();
          },
          { timeout: 30_000, interval: 500 },
        )
        .toBeGreaterThanOrEqual(2);
      expect(first.logLines().filter((line) => line.msg?.startsWith('learned-evidence store unavailable'))).toHaveLength(1);
    } finally {
      await redis.start();
    }
    // Once Redis is back, what was learned meanwhile reaches the other process too.
    await expect.poll(() => ranked(second, 'guava jelly'), { timeout: 30_000, interval: 500 }).toEqual(['echo.stats']);
  }, 120_000);
});
