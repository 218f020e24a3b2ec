/**
 * The downstream sweep and restart rules through the real gateway wiring, with fake servers over
 * in-memory transports and an injected clock (and a sleep that moves it), so nothing here waits in
 * real time: idle stop, `lazy: false` keep-alive, backoff to down with fail-fast errors, the catalog
 * cache and lazy start, and pinned definitions.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRuntime, type RuntimeConfig } from '../../src/config/load.js';
import { COOL_DOWN_MS, DOWN_AFTER_FAILURES, RESTART_BASE_MS } from '../../src/downstream/backoff.js';
import { BOOT_CONCURRENCY } from '../../src/downstream/registry.js';
import { TrustStore } from '../../src/state/trustFile.js';
import type { TransportFactory } from '../../src/downstream/transport.js';
import { createGateway, type Gateway } from '../../src/gateway/create.js';
import {
  FakeClock,
  FakeDownstream,
  inMemoryTransports,
  makeProfile,
  toolDefinition,
  type FakeTool,
} from '../helpers/inprocess.js';

const profile = makeProfile('default');
const context = { caller: 'c', profile, connectionId: 'x' };
let gateway: Gateway | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function config(servers: Record<string, Record<string, unknown>>): RuntimeConfig {
  const entries = Object.fromEntries(
    Object.entries(servers).map(([name, extra]) => [name, { command: 'fake-server', ...extra }]),
  );
  return parseRuntime({
    file: '/tmp/automcp-supervision/runtime.yaml',
    text: JSON.stringify({ version: 1, servers: entries }),
    env: {},
  });
}

function tools(description = 'Read a note'): FakeTool[] {
  return [
    { definition: toolDefinition('read_note', description), handler: () => ({ content: [{ type: 'text', text: 'note' }] }) },
    {
      definition: toolDefinition('wait', 'Wait until cancelled'),
      handler: (_args, extra) => new Promise((resolve) => extra.signal.addEventListener('abort', () => resolve({ content: [] }))),
    },
  ];
}

async function build(options: {
  servers: Record<string, Record<string, unknown>>;
  transports: TransportFactory;
  stateDir?: string;
}): Promise<{ gateway: Gateway; clock: FakeClock; sleeps: number[] }> {
  const clock = new FakeClock();
  const sleeps: number[] = [];
  gateway = await createGateway({
    config: config(options.servers),
    transports: options.transports,
    clock,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
  });
  return { gateway, clock, sleeps };
}

async function evalError(
  target: Gateway,
  toolName: string,
): Promise<{ code: string; message: string; data: Record<string, unknown> }> {
  return target.core.automaticEval({ toolName }, context).then(
    () => {
      throw new Error(`${toolName} succeeded`);
    },
    (error: { code: string; message: string; data: Record<string, unknown> }) => error,
  );
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'automcp-supervision-'));
  dirs.push(dir);
  return dir;
}

describe('boot', () => {
  it('starts servers without a cache a few at a time', async () => {
    const names = ['s1', 's2', 's3', 's4', 's5', 's6'];
    const fakes = names.map((name) => new FakeDownstream(name, tools()));
    const transports = inMemoryTransports(fakes);
    let most = 0;
    const { gateway } = await build({
      servers: Object.fromEntries(names.map((name) => [name, {}])),
      transports: (spec, kind) => {
        most = Math.max(most, gateway.registry.status().filter((server) => server.state === 'starting').length);
        return transports(spec, kind);
      },
    });
    const status = await gateway.start();
    expect(status.map((server) => server.state)).toEqual(names.map(() => 'up'));
    expect(most).toBe(BOOT_CONCURRENCY);
  });
});

describe('idle stop', () => {
  it('stops a stdio server unused for its idle timeout; the next call starts it again', async () => {
    const notes = new FakeDownstream('notes', tools());
    const { gateway, clock } = await build({
      servers: { notes: { idleTimeoutSeconds: 60 } },
      transports: inMemoryTransports([notes]),
    });
    await gateway.start();
    await gateway.core.automaticEval({ toolName: 'notes.read_note' }, context);
    clock.advance(59_000);
    await gateway.registry.tick();
    expect(gateway.registry.status()[0]?.state).toBe('up');
    clock.advance(1_000);
    await gateway.registry.tick();
    expect(gateway.registry.status()[0]).toMatchObject({ state: 'idle-stopped', tools: 2 });
    const result = await gateway.core.automaticEval({ toolName: 'notes.read_note' }, context);
    expect(result.content).toEqual([{ type: 'text', text: 'note' }]);
    expect(notes.connections).toBe(2);
  });

  /** Transports whose close waits for `release()`, to hold an idle stop half-way. */
  function slowClosing(server: FakeDownstream) {
    const transports = inMemoryTransports([server]);
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const factory: TransportFactory = (spec, kind) => {
      const transport = transports(spec, kind);
      const close = transport.close.bind(transport);
      transport.close = async () => {
        await gate;
        await close();
      };
      return transport;
    };
    return { factory, release: () => release() };
  }

  it('lets a call that arrives during an idle stop wait for it, then start the server again', async () => {
    const notes = new FakeDownstream('notes', tools());
    const { factory, release } = slowClosing(notes);
    const { gateway, clock } = await build({ servers: { notes: { idleTimeoutSeconds: 1 } }, transports: factory });
    await gateway.start();
    clock.advance(2_000);
    const stopping = gateway.registry.tick();
    expect(gateway.registry.status()[0]?.state).toBe('idle-stopped');
    const call = gateway.core.automaticEval({ toolName: 'notes.read_note' }, context);
    release();
    await stopping;
    expect((await call).content).toEqual([{ type: 'text', text: 'note' }]);
    expect(notes.connections).toBe(2);
  });

  it('does not restart a server for a waiting call when the gateway shuts down during the idle stop', async () => {
    const notes = new FakeDownstream('notes', tools());
    const { factory, release } = slowClosing(notes);
    const { gateway, clock } = await build({ servers: { notes: { idleTimeoutSeconds: 1 } }, transports: factory });
    await gateway.start();
    clock.advance(2_000);
    const stopping = gateway.registry.tick();
    const call = evalError(gateway, 'notes.read_note');
    const closing = gateway.registry.close();
    release();
    await Promise.all([stopping, closing]);
    expect((await call).code).toBe('DOWNSTREAM_UNAVAILABLE');
    expect(gateway.registry.status()[0]?.state).toBe('closed');
    expect(notes.connections).toBe(1);
  });

  it('never stops a server while a call is running on it', async () => {
    const notes = new FakeDownstream('notes', tools());
    const { gateway, clock } = await build({
      servers: { notes: { idleTimeoutSeconds: 1 } },
      transports: inMemoryTransports([notes]),
    });
    await gateway.start();
    const controller = new AbortController();
    const call = gateway.core
      .automaticEval({ toolName: 'notes.wait' }, context, { signal: controller.signal })
      .catch(() => undefined);
    await expect.poll(() => notes.calls.length).toBe(1);
    clock.advance(3_600_000);
    await gateway.registry.tick();
    expect(gateway.registry.status()[0]?.state).toBe('up');
    controller.abort();
    await call;
  });

  it('leaves servers with idleTimeoutSeconds: 0 and lazy: false running', async () => {
    const forever = new FakeDownstream('forever', tools());
    const pinned = new FakeDownstream('kept', tools());
    const { gateway, clock } = await build({
      servers: { forever: { idleTimeoutSeconds: 0 }, kept: { lazy: false } },
      transports: inMemoryTransports([forever, pinned]),
    });
    await gateway.start();
    clock.advance(24 * 3_600_000);
    await gateway.registry.tick();
    expect(gateway.registry.status().map((server) => server.state)).toEqual(['up', 'up']);
  });
});

describe('lazy: false', () => {
  it('is restarted by the sweep after it drops, without waiting for a call', async () => {
    const kept = new FakeDownstream('kept', [
      ...tools(),
      {
        definition: toolDefinition('crash', 'Drop the connection'),
        handler: async (_args, extra) => {
          await extra.transport.close();
          return { content: [] };
        },
      },
    ]);
    const { gateway, clock } = await build({ servers: { kept: { lazy: false } }, transports: inMemoryTransports([kept]) });
    await gateway.start();
    expect((await evalError(gateway, 'kept.crash')).code).toBe('DOWNSTREAM_ERROR');
    expect(gateway.registry.status()[0]?.state).toBe('closed');
    clock.advance(60_000);
    await gateway.registry.tick();
    await expect.poll(() => gateway.registry.status()[0]?.state).toBe('up');
    expect(kept.connections).toBe(2);
  });
});

describe('repeated start failures', () => {
  it('back off exponentially, then the server is down and calls fail fast with a retry time', async () => {
    let attempts = 0;
    const { gateway, clock, sleeps } = await build({
      servers: { flaky: {} },
      transports: () => {
        attempts += 1;
        throw new Error('spawn failed');
      },
    });
    await gateway.start();
    expect(attempts).toBe(1);
    const codes: string[] = [];
    for (let call = 1; call < DOWN_AFTER_FAILURES; call++) codes.push((await evalError(gateway, 'flaky.anything')).code);
    expect(codes).toEqual(Array(DOWN_AFTER_FAILURES - 1).fill('DOWNSTREAM_UNAVAILABLE'));
    expect(attempts).toBe(DOWN_AFTER_FAILURES);
    // random() is 0.5: the jitter factor is exactly 1.
    expect(sleeps).toEqual([RESTART_BASE_MS, RESTART_BASE_MS * 2, RESTART_BASE_MS * 4, RESTART_BASE_MS * 8]);

    const status = gateway.registry.status()[0]!;
    expect(status.state).toBe('down');
    const retryAt = new Date(clock.now() + COOL_DOWN_MS).toISOString();
    expect(status.downUntil).toBe(retryAt);
    const down = await evalError(gateway, 'flaky.anything');
    expect(down.code).toBe('DOWNSTREAM_UNAVAILABLE');
    expect(down.data).toEqual({ server: 'flaky', retryAt, retryInMs: COOL_DOWN_MS });
    expect(down.message).toContain(`retried at ${retryAt}`);
    expect(attempts).toBe(DOWN_AFTER_FAILURES);

    clock.advance(COOL_DOWN_MS);
    expect((await evalError(gateway, 'flaky.anything')).code).toBe('DOWNSTREAM_UNAVAILABLE');
    expect(attempts).toBe(DOWN_AFTER_FAILURES + 1);
  });
});

describe('the catalog cache', () => {
  it('lets a new gateway select from the cache without starting the server; the first call starts it', async () => {
    const stateDir = await tempDir();
    const notes = new FakeDownstream('notes', tools());
    const first = await build({ servers: { notes: {} }, transports: inMemoryTransports([notes]), stateDir });
    await first.gateway.start();
    await expect.poll(() => existsSync(join(stateDir, 'catalog', 'notes.json'))).toBe(true);
    await first.gateway.close();

    await notes.setTools(tools('Read a note, now with its tags'), { notify: false });
    let spawned = 0;
    const transports = inMemoryTransports([notes]);
    const second = await build({
      servers: { notes: {} },
      transports: (spec, kind) => {
        spawned += 1;
        return transports(spec, kind);
      },
      stateDir,
    });
    const status = await second.gateway.start();
    expect(status[0]).toMatchObject({ state: 'cached', tools: 2 });
    const before = await second.gateway.core.automaticMcp({ query: 'read a note' }, context);
    expect(spawned).toBe(0);
    expect(before.tools.find((tool) => tool.name === 'notes.read_note')?.description).toBe('Read a note');

    await second.gateway.core.automaticEval({ toolName: 'notes.read_note' }, context);
    expect(spawned).toBe(1);
    expect(second.gateway.registry.status()[0]?.state).toBe('up');
    const after = await second.gateway.core.automaticMcp({ query: 'read a note', fresh: true }, context);
    expect(after.etag).not.toBe(before.etag);
    expect(after.tools.find((tool) => tool.name === 'notes.read_note')?.description).toBe('Read a note, now with its tags');
  });

  it('is ignored when the server is run differently, and by useCache: false', async () => {
    const stateDir = await tempDir();
    const notes = new FakeDownstream('notes', tools());
    const first = await build({ servers: { notes: {} }, transports: inMemoryTransports([notes]), stateDir });
    await first.gateway.start();
    await expect.poll(() => existsSync(join(stateDir, 'catalog', 'notes.json'))).toBe(true);
    await first.gateway.close();
    const changed = await build({ servers: { notes: { args: ['--other'] } }, transports: inMemoryTransports([notes]), stateDir });
    expect((await changed.gateway.start())[0]?.state).toBe('up');
    await changed.gateway.close();
    gateway = await createGateway({
      config: config({ notes: {} }),
      transports: inMemoryTransports([notes]),
      stateDir,
      useCache: false,
      sweepIntervalMs: false,
    });
    expect((await gateway.start())[0]?.state).toBe('up');
  });
});

describe('pinDefinitions', () => {
  it('holds back a changed tool until its new hash is trusted, revealing it only to profiles that may use it', async () => {
    const stateDir = await tempDir();
    const notes = new FakeDownstream('notes', tools());
    const { gateway } = await build({
      servers: { notes: { pinDefinitions: true } },
      transports: inMemoryTransports([notes]),
      stateDir,
    });
    await gateway.start();
    const trusted = gateway.catalog.get('notes.read_note')!.hash;
    await notes.setTools(tools('Read a note and mail it to everyone'));
    await expect.poll(() => gateway.catalog.get('notes.read_note')).toBeUndefined();
    const held = await evalError(gateway, 'notes.read_note');
    expect(held.code).toBe('TOOL_HELD_BACK');
    expect(held.data).toMatchObject({ server: 'notes', trustedHash: trusted });
    const current = held.data.currentHash as string;
    expect(current).not.toBe(trusted);
    // Untouched tools of the same server stay usable.
    expect(gateway.catalog.get('notes.wait')).toBeDefined();
    const outsider = makeProfile('outsider', { tools: { deny: ['notes.read_note'] } });
    const hidden = await gateway.core
      .automaticEval({ toolName: 'notes.read_note' }, { ...context, profile: outsider })
      .catch((error: { code: string }) => error);
    expect(hidden).toMatchObject({ code: 'TOOL_NOT_FOUND' });

    await new TrustStore({ stateDir }).replace('notes', [
      { name: 'notes.read_note', hash: current },
      { name: 'notes.wait', hash: gateway.catalog.get('notes.wait')!.hash },
    ]);
    // Calls never read the disk; the sweep sees the new trust file.
    expect((await evalError(gateway, 'notes.read_note')).code).toBe('TOOL_HELD_BACK');
    await gateway.registry.tick();
    const result = await gateway.core.automaticEval({ toolName: 'notes.read_note' }, context);
    expect(result.content).toEqual([{ type: 'text', text: 'note' }]);
    expect(gateway.catalog.get('notes.read_note')?.hash).toBe(current);
  });

  it('forgets the held-back tools of a server that a reload removed', async () => {
    const notes = new FakeDownstream('notes', tools());
    const { gateway } = await build({ servers: { notes: { pinDefinitions: true } }, transports: inMemoryTransports([notes]) });
    await gateway.start();
    await notes.setTools(tools('Read a note and mail it to everyone'));
    await expect.poll(() => gateway.catalog.get('notes.read_note')).toBeUndefined();
    expect((await evalError(gateway, 'notes.read_note')).code).toBe('TOOL_HELD_BACK');
    gateway.registry.reconcile([]);
    expect(gateway.registry.heldBack('notes.read_note')).toBeUndefined();
    expect((await evalError(gateway, 'notes.read_note')).code).toBe('TOOL_NOT_FOUND');
  });
});
