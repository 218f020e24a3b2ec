/**
 * Fault injection against the built gateway with the faulty fixture server: a server killed with
 * SIGKILL in the middle of a call, a server that crashes at every start (backoff, then down with a
 * retry time), a hung tool, junk on stdout, a slow start, a tool list that changes at run time, and
 * 50 concurrent calls spread over three servers. One `automcp serve` is shared by the file.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, writeConfigDir, type TempConfig } from './helpers/config.js';
import { faultyServer, logLines, startPids, type FaultyServer } from './helpers/faulty.js';
import {
  errorPayload,
  evalTool,
  firstText,
  isAlive,
  selectTools,
  serveGateway,
  waitFor,
  type ServedGateway,
} from './helpers/gateway.js';

const HANG_TIMEOUT_MS = 1_500;
const SLOW_START_MS = 3_000;

let tmp: string;
let config: TempConfig;
let gateway: ServedGateway;
let servers: Record<'victim' | 'broken' | 'stuck' | 'sluggish' | 'shifty' | 'a' | 'b' | 'c', FaultyServer>;

beforeAll(async () => {
  tmp = await makeTempDir('automcp-faults-');
  servers = {
    victim: faultyServer(tmp, 'victim'),
    broken: faultyServer(tmp, 'broken', { env: { FAULTY_CRASH_AT_START: '1' } }),
    stuck: faultyServer(tmp, 'stuck', { timeoutMs: HANG_TIMEOUT_MS }),
    // Stops after a second unused, so the test can make a call start it (slowly) again.
    sluggish: faultyServer(tmp, 'sluggish', { env: { FAULTY_START_DELAY_MS: String(SLOW_START_MS) }, idleTimeoutSeconds: 1 }),
    shifty: faultyServer(tmp, 'shifty'),
    a: faultyServer(tmp, 'a'),
    b: faultyServer(tmp, 'b'),
    c: faultyServer(tmp, 'c'),
  };
  config = await writeConfigDir({
    dir: join(tmp, 'config'),
    runtime: { servers: Object.fromEntries(Object.entries(servers).map(([name, server]) => [name, server.entry])) },
    profiles: { default: { description: 'Everything.' } },
  });
  gateway = await serveGateway({ configDir: config.dir });
});

afterAll(async () => {
  await gateway?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function pidOf(server: string): Promise<number> {
  const result = await evalTool(gateway.client, `${server}.pid`, {});
  if (result.isError) throw new Error(`${server}.pid failed: ${JSON.stringify(result.content)}`);
  return (result.structuredContent as { pid: number }).pid;
}

async function waitForEvent(server: FaultyServer, event: string): Promise<void> {
  await waitFor(
    async () => ((await logLines(server.eventLog)).some((line) => line.startsWith(event)) ? true : undefined),
    10_000,
    event,
  );
}

describe('a server killed with SIGKILL during a call', () => {
  it('ends the call with DOWNSTREAM_ERROR at once, not at the timeout, and the next call succeeds', async () => {
    const before = await pidOf('victim');
    const call = evalTool(gateway.client, 'victim.sleep', { ms: 60_000 });
    await waitForEvent(servers.victim, `sleep started ${before}`);
    const killedAt = Date.now();
    process.kill(before, 'SIGKILL');
    const payload = errorPayload(await call);
    const elapsed = Date.now() - killedAt;
    console.log(`faults: DOWNSTREAM_ERROR ${elapsed} ms after SIGKILL (call timeout 60000 ms)`);
    expect(payload.error.code).toBe('DOWNSTREAM_ERROR');
    expect(payload.server).toBe('victim');
    // Far below the 60 s timeout the call would otherwise have waited for; generous for a busy machine.
    expect(elapsed).toBeLessThan(5_000);
    const after = await pidOf('victim');
    expect(after).not.toBe(before);
    expect(await startPids(servers.victim)).toContain(after);
  });
});

describe('a server that crashes at every start', () => {
  it('backs off between attempts, then is down: calls fail fast saying when it will be retried', async () => {
    let down: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 12 && !down; attempt++) {
      const payload = errorPayload(await evalTool(gateway.client, 'broken.pid', {}));
      expect(payload.error.code).toBe('DOWNSTREAM_UNAVAILABLE');
      expect(payload.server).toBe('broken');
      if (payload.retryAt !== undefined) down = payload;
    }
    expect(down, 'the server should be marked down after repeated failures').toBeDefined();
    const retryAt = Date.parse(String(down!.retryAt));
    expect(retryAt).toBeGreaterThan(Date.now());
    expect(down!.retryInMs).toBeGreaterThan(0);
    expect((down!.error as { message: string }).message).toMatch(/retried at/);
    const attempts = (await startPids(servers.broken)).length;
    expect(attempts).toBeGreaterThanOrEqual(5);
    // While down, calls do not spawn anything.
    for (let i = 0; i < 3; i++) {
      const payload = errorPayload(await evalTool(gateway.client, 'broken.pid', {}));
      expect(payload.error.code).toBe('DOWNSTREAM_UNAVAILABLE');
      expect(payload.retryAt).toBe(down!.retryAt);
    }
    expect((await startPids(servers.broken)).length).toBe(attempts);
    await gateway.waitForLog((line) => line.server === 'broken' && /down for a cool-down/.test(line.msg ?? ''));
  });
});

describe('a hung tool', () => {
  it('gives DOWNSTREAM_TIMEOUT at its timeout, says the outcome is unknown, and cancels downstream', async () => {
    const payload = errorPayload(await evalTool(gateway.client, 'stuck.hang', {}));
    expect(payload.error.code).toBe('DOWNSTREAM_TIMEOUT');
    expect(payload.server).toBe('stuck');
    expect(payload.timeoutMs).toBe(HANG_TIMEOUT_MS);
    expect(payload.error.message).toMatch(/outcome is unknown/);
    await waitForEvent(servers.stuck, 'hang cancelled');
    // The server itself is fine.
    expect(await pidOf('stuck')).toBeGreaterThan(0);
  });

  it('sends notifications/cancelled downstream when the upstream request is cancelled', async () => {
    const controller = new AbortController();
    const call = evalTool(gateway.client, 'stuck.sleep', { ms: 60_000 }, { signal: controller.signal, timeout: 120_000 });
    await waitForEvent(servers.stuck, 'sleep started');
    controller.abort('the test cancels');
    await expect(call).rejects.toThrow();
    await waitForEvent(servers.stuck, 'sleep cancelled');
  });
});

describe('junk on stdout', () => {
  it('is ignored and logged with the server name; the call still answers', async () => {
    const result = await evalTool(gateway.client, 'victim.garbage', {});
    expect(result.isError).toBeFalsy();
    expect(firstText(result)).toBe('answered after the junk');
    expect(await pidOf('victim')).toBeGreaterThan(0);
    await gateway.waitForLog((line) => line.server === 'victim' && line.level >= 40 && /not JSON-RPC/.test(line.msg ?? ''));
  });
});

describe('a slow start', () => {
  it('does not fail the call that starts the server: it waits for it to come up', async () => {
    // Let the boot start finish, and the idle stop end that process.
    const [first] = await waitFor(async () => {
      const pids = await startPids(servers.sluggish);
      return pids.length === 1 ? pids : undefined;
    }, 15_000);
    await waitFor(() => (isAlive(first!) ? undefined : true), 20_000, 'the sluggish server to be idle-stopped');
    const started = Date.now();
    const pid = await pidOf('sluggish');
    expect(Date.now() - started).toBeGreaterThanOrEqual(SLOW_START_MS - 100);
    expect(await startPids(servers.sluggish)).toEqual([first, pid]);
  });
});

describe('a tool list that changes at run time', () => {
  it('reaches selections with a new etag and hash, and the change is logged with both hashes', async () => {
    await writeFile(servers.shifty.descriptionFile, 'Report the target value');
    const query = { query: 'report the target value', limit: 50, sessionId: 'faults-shift' };
    const before = await selectTools(gateway.client, query);
    const old = before.tools.find((tool) => tool.name === 'shifty.target');
    expect(old?.description).toBe('Report the target value');
    expect(firstText(await evalTool(gateway.client, 'shifty.shift', { description: 'Report the target value, in kelvin' }))).toBe(
      'shifted',
    );
    const after = await waitFor(
      async () => {
        const output = await selectTools(gateway.client, query);
        return output.etag !== before.etag ? output : undefined;
      },
      10_000,
      'a new etag',
    );
    const changed = after.tools.find((tool) => tool.name === 'shifty.target');
    expect(changed?.description).toBe('Report the target value, in kelvin');
    expect(changed?.hash).not.toBe(old?.hash);
    const warning = await gateway.waitForLog((line) => line.msg === 'tool definition changed' && line.server === 'shifty');
    expect(warning).toMatchObject({ tool: 'shifty.target', before: old?.hash, after: changed?.hash });
  });
});

describe('50 concurrent calls over three servers', () => {
  it('all answer, each with its own result', async () => {
    const calls = Array.from({ length: 50 }, (_, index) => {
      const server = ['a', 'b', 'c'][index % 3]!;
      return evalTool(gateway.client, `${server}.sleep`, { ms: 10 + index }).then((result) => ({ index, result }));
    });
    const results = await Promise.all(calls);
    for (const { index, result } of results) {
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      expect(firstText(result)).toBe(`slept ${10 + index} ms`);
    }
    // One process per server served them all.
    for (const name of ['a', 'b', 'c'] as const) expect((await startPids(servers[name])).length).toBe(1);
  });
});
