/**
 * Progress through the built gateway with the real "everything" server: its long-running operation
 * reports progress every step, the gateway forwards it when the upstream request carries a progress
 * token, and progress resets the call's timeout, so an operation longer than the timeout completes;
 * silence for longer than the timeout still ends the call.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingServer, makeTempDir, writeConfigDir } from './helpers/config.js';
import { evalTool, firstText, serveGateway, type ServedGateway } from './helpers/gateway.js';

/** Shorter than the operation, longer than the pause between two of its progress reports. */
const TIMEOUT_MS = 1_500;
const DURATION_S = 4;
const STEPS = 8;

let tmp: string;
let gateway: ServedGateway;

beforeAll(async () => {
  tmp = await makeTempDir('automcp-progress-');
  const config = await writeConfigDir({
    dir: join(tmp, 'config'),
    runtime: { servers: { everything: everythingServer({ timeoutMs: TIMEOUT_MS }) } },
  });
  gateway = await serveGateway({ configDir: config.dir });
});

afterAll(async () => {
  await gateway?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('a long operation that reports progress', () => {
  it('streams its progress upstream and outlives a timeout shorter than its duration', async () => {
    const progress: Progress[] = [];
    const started = Date.now();
    const result = await evalTool(
      gateway.client,
      'everything.trigger-long-running-operation',
      { duration: DURATION_S, steps: STEPS },
      // The upstream client's own timeout must not be what ends the call.
      { onprogress: (update) => progress.push(update), timeout: 60_000, resetTimeoutOnProgress: true },
    );
    const elapsed = Date.now() - started;
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(firstText(result)).toMatch(/completed/i);
    expect(elapsed).toBeGreaterThan(TIMEOUT_MS);
    // Every step but possibly the last arrives (see realServers.int.test.ts on the final notification).
    expect(progress.length).toBeGreaterThanOrEqual(STEPS - 1);
    expect(progress.slice(0, STEPS - 1).map((update) => update.progress)).toEqual(
      Array.from({ length: STEPS - 1 }, (_, index) => index + 1),
    );
    expect(progress.every((update) => update.total === STEPS)).toBe(true);
  });

  it('still times out on silence: a single-step operation longer than the timeout', async () => {
    const result = await evalTool(
      gateway.client,
      'everything.trigger-long-running-operation',
      { duration: 3, steps: 1 },
      { timeout: 60_000 },
    );
    expect(result.isError).toBe(true);
    expect(JSON.parse(firstText(result)).error).toMatchObject({ code: 'DOWNSTREAM_TIMEOUT' });
  });
});
