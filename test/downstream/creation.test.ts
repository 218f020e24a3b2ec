/**
 * Building a gateway starts nothing: no sweep timer, no child, no exit hook until `start()`. So a
 * creation that fails half-way (a session store that cannot be built) leaves nothing behind, and a
 * `lazy: false` server is not spawned by a gateway nobody started.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseRuntime, type RuntimeConfig } from '../../src/config/load.js';
import type { TransportFactory } from '../../src/downstream/transport.js';
import { createGateway, SWEEP_INTERVAL_MS, type Gateway } from '../../src/gateway/create.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { FakeDownstream, inMemoryTransports, toolDefinition } from '../helpers/inprocess.js';

let gateway: Gateway | undefined;

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  vi.useRealTimers();
});

function config(): RuntimeConfig {
  return parseRuntime({
    file: '/tmp/automcp-creation/runtime.yaml',
    text: JSON.stringify({ version: 1, servers: { kept: { command: 'fake-server', lazy: false } } }),
    env: {},
  });
}

/** A session section that passes no schema but can be built in code: Redis without a URL throws. */
function brokenSessions(base: RuntimeConfig): RuntimeConfig {
  return { ...base, session: { ...base.session, store: 'redis', redisUrl: undefined } } as RuntimeConfig;
}

function counting(): { factory: TransportFactory; spawned: () => number } {
  const kept = new FakeDownstream('kept', [{ definition: toolDefinition('read', 'Read'), handler: () => ({ content: [] }) }]);
  const transports = inMemoryTransports([kept]);
  let spawned = 0;
  return {
    factory: (spec, kind) => {
      spawned += 1;
      return transports(spec, kind);
    },
    spawned: () => spawned,
  };
}

describe('createGateway', () => {
  it('leaves no sweep timer and no exit listener when building the session store throws', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    // Built first: a pino logger hooks `exit` to flush its own output, which is not what is measured.
    const logger = createSilentLogger();
    const exitListeners = process.listenerCount('exit');
    await expect(createGateway({ config: brokenSessions(config()), logger })).rejects.toThrow(/redisUrl/);
    expect(vi.getTimerCount()).toBe(0);
    expect(process.listenerCount('exit')).toBe(exitListeners);
  });

  it('spawns no lazy: false server after a failed creation', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { factory, spawned } = counting();
    await expect(createGateway({ config: brokenSessions(config()), transports: factory })).rejects.toThrow(/redisUrl/);
    await vi.advanceTimersByTimeAsync(10 * SWEEP_INTERVAL_MS);
    expect(spawned()).toBe(0);
  });

  it('starts the sweep, and with it lazy: false servers, only with start()', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { factory, spawned } = counting();
    gateway = await createGateway({ config: config(), transports: factory });
    await vi.advanceTimersByTimeAsync(10 * SWEEP_INTERVAL_MS);
    expect(spawned()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect((await gateway.start())[0]?.state).toBe('up');
    expect(spawned()).toBe(1);
    expect(vi.getTimerCount()).toBe(1);
    await gateway.close();
    gateway = undefined;
    expect(vi.getTimerCount()).toBe(0);
  });
});
