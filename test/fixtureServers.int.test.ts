/**
 * The gateway against misbehaving fixture servers (test/fixtures/servers): slow answers, cancellation,
 * crashes mid-call, a server that cannot restart, stdout noise, and a server whose command does not
 * exist. One `automcp serve` per profile is shared by the file.
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeTempDir, writeConfigDir, type TempConfig } from './helpers/config.js';
import { errorPayload, evalTool, firstText, selectTools, serveGateway, waitFor, type ServedGateway } from './helpers/gateway.js';

const SLOW_TIMEOUT_MS = 500;
const IMPATIENT_TIMEOUT_MS = 300;
/** Handed to a downstream server through its env; must never show up in the gateway's logs. */
const SECRET = 'sk-automcp-int-7f3e9c1d2b';

let tmp: string;
let config: TempConfig;
let crashMarker: string;
let slowCancelLog: string;
let patientCancelLog: string;

beforeAll(async () => {
  tmp = await makeTempDir('automcp-fixtures-');
  crashMarker = join(tmp, 'crash.marker');
  slowCancelLog = join(tmp, 'slow-cancel.log');
  patientCancelLog = join(tmp, 'patient-cancel.log');
  config = await writeConfigDir({
    dir: join(tmp, 'config'),
    runtime: {
      servers: {
        echo: fixtureServer('echo', { description: 'Echoes messages and adds numbers', env: { ECHO_API_KEY: SECRET } }),
        slow: fixtureServer('slow', { timeoutMs: SLOW_TIMEOUT_MS, env: { SLOW_CANCEL_LOG: slowCancelLog } }),
        patient: fixtureServer('slow', { env: { SLOW_CANCEL_LOG: patientCancelLog } }),
        crash: fixtureServer('crash', { env: { CRASH_MARKER: crashMarker } }),
        noisy: fixtureServer('noisy', { description: 'Says hello, and writes junk to stdout' }),
        broken: { command: join(tmp, 'no-such-command'), args: ['--serve'], description: 'A server that cannot start' },
      },
    },
    profiles: {
      default: { description: 'Test caller that may use everything.' },
      impatient: { description: 'Test caller with a short eval timeout.', eval: { timeoutMs: IMPATIENT_TIMEOUT_MS } },
    },
  });
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface SleepCounts {
  cancelled: number;
  completed: number;
  active: number;
}

async function cancelledCount(gateway: ServedGateway, server: 'slow' | 'patient'): Promise<SleepCounts> {
  const result = await evalTool(gateway.client, `${server}.cancelled_count`, {});
  expect(result.isError).toBeFalsy();
  return result.structuredContent as unknown as SleepCounts;
}

async function ping(gateway: ServedGateway): Promise<number> {
  const result = await evalTool(gateway.client, 'crash.ping', {});
  if (result.isError) throw new Error(`crash.ping failed: ${JSON.stringify(result.content)}`);
  return (result.structuredContent as { pid: number }).pid;
}

describe('default profile', () => {
  let gateway: ServedGateway;

  beforeAll(async () => {
    gateway = await serveGateway({ configDir: config.dir });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  describe('a well-behaved server', () => {
    it('passes text content through unchanged', async () => {
      const result = await evalTool(gateway.client, 'echo.echo', { message: 'hi there' });
      expect(result.isError).toBeFalsy();
      expect(result.content).toEqual([{ type: 'text', text: 'hi there' }]);
      expect(result.structuredContent).toBeUndefined();
    });

    it('passes structuredContent through unchanged', async () => {
      const result = await evalTool(gateway.client, 'echo.add', { a: 2, b: 3 });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toEqual({ sum: 5 });
      expect(result.content).toEqual([{ type: 'text', text: '{"sum":5}' }]);
    });

    it('returns a downstream isError result as the tool result, not as a gateway error', async () => {
      const result = await evalTool(gateway.client, 'echo.fail', {});
      expect(result.isError).toBe(true);
      expect(result.content).toEqual([{ type: 'text', text: 'fail: this tool always fails' }]);
    });

    it('returns the outputSchema of a tool that has one, and omits it where the tool has none', async () => {
      const output = await selectTools(gateway.client, {
        query: 'add two numbers and echo a message',
        limit: 50,
        sessionId: 'fixtures-schema',
      });
      const add = output.tools.find((tool) => tool.name === 'echo.add');
      const echo = output.tools.find((tool) => tool.name === 'echo.echo');
      expect(add?.outputSchema).toEqual({ type: 'object', properties: { sum: { type: 'number' } }, required: ['sum'] });
      expect(echo).toBeDefined();
      expect(echo && 'outputSchema' in echo).toBe(false);
      const fail = output.tools.find((tool) => tool.name === 'echo.fail');
      if (fail) expect('annotations' in fail).toBe(false);
    });

    it('does not forward arguments that fail the schema', async () => {
      const before = (await evalTool(gateway.client, 'echo.stats', {})).structuredContent as { calls: Record<string, number> };
      for (const args of [{ message: 5 }, { message: 'x', unexpected: true }, {}]) {
        const payload = errorPayload(await evalTool(gateway.client, 'echo.echo', args));
        expect(payload.error.code).toBe('INVALID_ARGUMENTS');
        expect((payload.tool as { name: string }).name).toBe('echo.echo');
        expect((payload.tool as { inputSchema: unknown }).inputSchema).toEqual({
          type: 'object',
          properties: { message: { type: 'string', description: 'the message to echo' } },
          required: ['message'],
          additionalProperties: false,
        });
        expect((payload.violations as unknown[]).length).toBeGreaterThan(0);
      }
      const after = (await evalTool(gateway.client, 'echo.stats', {})).structuredContent as { calls: Record<string, number> };
      expect(after.calls.echo ?? 0).toBe(before.calls.echo ?? 0);
    });
  });

  describe('a slow server', () => {
    it('times out with DOWNSTREAM_TIMEOUT naming the server and the timeout, and cancels the call downstream', async () => {
      const started = Date.now();
      const payload = errorPayload(await evalTool(gateway.client, 'slow.sleep', { ms: 5_000 }));
      const elapsed = Date.now() - started;
      expect(payload.error.code).toBe('DOWNSTREAM_TIMEOUT');
      expect(payload.server).toBe('slow');
      expect(payload.timeoutMs).toBe(SLOW_TIMEOUT_MS);
      expect(elapsed).toBeGreaterThanOrEqual(SLOW_TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(3_000);

      // The gateway survives, the server still answers, and it was told to stop the abandoned call.
      const counts = await waitFor(
        async () => {
          const current = await cancelledCount(gateway, 'slow');
          return current.cancelled >= 1 ? current : undefined;
        },
        5_000,
        'slow.sleep to be cancelled',
      );
      expect(counts).toEqual({ cancelled: 1, completed: 0, active: 0 });
      expect(await readFile(slowCancelLog, 'utf8')).toContain('cancelled sleep 5000');
    });

    it('answers calls that finish within the timeout', async () => {
      const result = await evalTool(gateway.client, 'slow.sleep', { ms: 50 });
      expect(result.isError).toBeFalsy();
      expect(firstText(result)).toBe('slept 50 ms');
    });

    it('cancels the downstream call when the upstream request is cancelled', async () => {
      const controller = new AbortController();
      const call = evalTool(gateway.client, 'patient.sleep', { ms: 20_000 }, { signal: controller.signal });
      // Cancel only once the call is running downstream.
      await waitFor(
        async () => ((await cancelledCount(gateway, 'patient')).active === 1 ? true : undefined),
        5_000,
        'patient.sleep to start',
      );
      controller.abort('test cancels');
      await expect(call).rejects.toThrow();

      const counts = await waitFor(
        async () => {
          const current = await cancelledCount(gateway, 'patient');
          return current.cancelled >= 1 ? current : undefined;
        },
        5_000,
        'patient.sleep to be cancelled',
      );
      expect(counts).toEqual({ cancelled: 1, completed: 0, active: 0 });
      expect(await readFile(patientCancelLog, 'utf8')).toContain('cancelled sleep 20000');
    });
  });

  describe('a crashing server', () => {
    it('reports a crash mid-call as DOWNSTREAM_ERROR and restarts the server on the next call', async () => {
      const before = await ping(gateway);
      const payload = errorPayload(await evalTool(gateway.client, 'crash.crash', {}));
      expect(payload.error.code).toBe('DOWNSTREAM_ERROR');
      expect(payload.server).toBe('crash');

      const after = await ping(gateway);
      expect(after).not.toBe(before);
      // Other servers were never affected.
      expect(firstText(await evalTool(gateway.client, 'echo.echo', { message: 'still here' }))).toBe('still here');
    });

    it('reports DOWNSTREAM_UNAVAILABLE while the server cannot restart, and recovers once it can', async () => {
      const payload = errorPayload(await evalTool(gateway.client, 'crash.break', {}));
      expect(payload.error.code).toBe('DOWNSTREAM_ERROR');
      expect(payload.server).toBe('crash');
      expect(existsSync(crashMarker)).toBe(true);

      const unavailable = errorPayload(await evalTool(gateway.client, 'crash.ping', {}));
      expect(unavailable.error.code).toBe('DOWNSTREAM_UNAVAILABLE');
      expect(unavailable.server).toBe('crash');

      await rm(crashMarker);
      expect(await ping(gateway)).toBeGreaterThan(0);
    });
  });

  describe('a server that writes junk to stdout', () => {
    it('keeps serving its tool, and the gateway log names the server', async () => {
      for (let i = 0; i < 3; i++) {
        const result = await evalTool(gateway.client, 'noisy.hello', { name: `tester ${i}` });
        expect(result.isError).toBeFalsy();
        expect(result.content).toEqual([{ type: 'text', text: `hello, tester ${i}` }]);
      }
      const warning = await gateway.waitForLog(
        (line) => line.server === 'noisy' && line.level >= 40 && /json/i.test(line.msg ?? ''),
      );
      expect(warning.server).toBe('noisy');
    });
  });

  it('never writes a server env secret to its log', async () => {
    await gateway.waitForLog((line) => line.server === 'broken' && line.level >= 40);
    expect(gateway.stderr().length).toBeGreaterThan(0);
    expect(gateway.stderr()).not.toContain(SECRET);
  });

  describe('a server that cannot start', () => {
    it('does not stop the others, and is named in the log', async () => {
      const output = await selectTools(gateway.client, { query: 'echo a message back', sessionId: 'fixtures-broken' });
      expect(output.tools.map((tool) => tool.name)).toContain('echo.echo');
      expect(output.tools.every((tool) => !tool.name.startsWith('broken.'))).toBe(true);
      // echo 4 + slow 2 + patient 2 + crash 3 + noisy 1
      expect(output.totalAvailable).toBe(12);
      expect(firstText(await evalTool(gateway.client, 'echo.echo', { message: 'ok' }))).toBe('ok');
      await gateway.waitForLog((line) => line.server === 'broken' && line.level >= 40);
    });
  });
});

describe('a profile with a short eval timeout', () => {
  let gateway: ServedGateway;

  beforeAll(async () => {
    // --verbose: debug logging must not leak secrets either.
    gateway = await serveGateway({ configDir: config.dir, profile: 'impatient', extraArgs: ['--verbose'] });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it('applies the profile timeout when it is shorter than the server timeout', async () => {
    const patient = errorPayload(await evalTool(gateway.client, 'patient.sleep', { ms: 5_000 }));
    expect(patient.error.code).toBe('DOWNSTREAM_TIMEOUT');
    expect(patient.server).toBe('patient');
    expect(patient.timeoutMs).toBe(IMPATIENT_TIMEOUT_MS);

    const slow = errorPayload(await evalTool(gateway.client, 'slow.sleep', { ms: 5_000 }));
    expect(slow.error.code).toBe('DOWNSTREAM_TIMEOUT');
    expect(slow.server).toBe('slow');
    expect(slow.timeoutMs).toBe(IMPATIENT_TIMEOUT_MS);
  });

  it('never writes a server env secret to its debug log', async () => {
    expect(firstText(await evalTool(gateway.client, 'echo.echo', { message: 'debug' }))).toBe('debug');
    expect(gateway.stderr()).not.toContain(SECRET);
  });
});
