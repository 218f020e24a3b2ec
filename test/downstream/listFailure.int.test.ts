/**
 * A server that completes the MCP handshake but fails `tools/list` (the faulty fixture with
 * FAULTY_LIST_ERROR=1, a real child over stdio) is a failed start like any other: its failures add up,
 * the restarts back off, and after DOWN_AFTER_FAILURES it is down for the cool-down. The gateway runs
 * on an injected clock whose sleep moves it, so the backoff costs no real time.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRuntime } from '../../src/config/load.js';
import { COOL_DOWN_MS, DOWN_AFTER_FAILURES, RESTART_BASE_MS } from '../../src/downstream/backoff.js';
import { createGateway, type Gateway } from '../../src/gateway/create.js';
import { makeTempDir } from '../helpers/config.js';
import { faultyServer, logLines, startPids } from '../helpers/faulty.js';
import { FakeClock, makeProfile } from '../helpers/inprocess.js';

const context = { caller: 'c', profile: makeProfile('default'), connectionId: 'x' };
let gateway: Gateway | undefined;
let tmp: string | undefined;

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  if (tmp) await rm(tmp, { recursive: true, force: true });
  tmp = undefined;
});

describe('a server whose tools/list fails after the handshake', () => {
  it('backs off and goes down like any failed start, instead of restarting every 250 ms', async () => {
    tmp = await makeTempDir('automcp-list-failure-');
    const server = faultyServer(tmp, 'unlisted', { env: { FAULTY_LIST_ERROR: '1' } });
    const clock = new FakeClock();
    const sleeps: number[] = [];
    gateway = await createGateway({
      config: parseRuntime({
        file: `${tmp}/runtime.yaml`,
        text: JSON.stringify({ version: 1, servers: { unlisted: server.entry } }),
        env: {},
      }),
      clock,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.advance(ms);
      },
    });
    await gateway.start();
    expect(gateway.registry.status()[0]).toMatchObject({ state: 'failed' });

    const codes: string[] = [];
    for (let call = 1; call < DOWN_AFTER_FAILURES; call++) {
      const failure = await gateway.core
        .automaticEval({ toolName: 'unlisted.pid' }, context)
        .catch((error: { code: string }) => error);
      codes.push((failure as { code: string }).code);
    }
    expect(codes).toEqual(Array(DOWN_AFTER_FAILURES - 1).fill('DOWNSTREAM_UNAVAILABLE'));
    // Each start got as far as tools/list, and each failure doubled the wait before the next one.
    expect(await logLines(server.eventLog)).toHaveLength(DOWN_AFTER_FAILURES);
    expect(sleeps).toEqual([RESTART_BASE_MS, RESTART_BASE_MS * 2, RESTART_BASE_MS * 4, RESTART_BASE_MS * 8]);
    const status = gateway.registry.status()[0]!;
    expect(status.state).toBe('down');
    expect(status.downUntil).toBe(new Date(clock.now() + COOL_DOWN_MS).toISOString());
    expect(status.lastError).toContain('tools/list is broken');

    // Down: calls fail at once, without spawning, until the cool-down ends.
    const down = await gateway.core
      .automaticEval({ toolName: 'unlisted.pid' }, context)
      .catch((error: { data: unknown }) => error);
    expect((down as { data: { retryInMs: number } }).data.retryInMs).toBe(COOL_DOWN_MS);
    expect(await startPids(server)).toHaveLength(DOWN_AFTER_FAILURES);
  });
});
