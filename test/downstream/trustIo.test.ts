/**
 * Calls do no synchronous file I/O: the trusted hashes of pinned servers are read from memory on the
 * request path, and the disk is looked at by the sweep. Every `*Sync` function of node:fs is counted
 * while calls run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseRuntime } from '../../src/config/load.js';
import { createGateway, type Gateway } from '../../src/gateway/create.js';
import { FakeClock, FakeDownstream, inMemoryTransports, makeProfile, toolDefinition } from '../helpers/inprocess.js';

const io = vi.hoisted(() => ({ counting: false, calls: [] as string[] }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<Record<string, unknown>>();
  const counted = Object.entries(fs).map(([name, value]) => {
    if (!name.endsWith('Sync') || typeof value !== 'function') return [name, value];
    const original = value as (...args: unknown[]) => unknown;
    return [
      name,
      (...args: unknown[]) => {
        if (io.counting) io.calls.push(name);
        return original(...args);
      },
    ];
  });
  return Object.fromEntries(counted);
});

const context = { caller: 'c', profile: makeProfile('default'), connectionId: 'x' };
let gateway: Gateway | undefined;
let stateDir: string | undefined;

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('a pinned server', () => {
  it('is served without synchronous file I/O on any call', async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'automcp-trust-io-'));
    const notes = new FakeDownstream('notes', [
      { definition: toolDefinition('read_note', 'Read a note'), handler: () => ({ content: [{ type: 'text', text: 'note' }] }) },
    ]);
    gateway = await createGateway({
      config: parseRuntime({
        file: '/tmp/automcp-trust-io/runtime.yaml',
        text: JSON.stringify({ version: 1, servers: { notes: { command: 'fake', pinDefinitions: true } } }),
        env: {},
      }),
      transports: inMemoryTransports([notes]),
      clock: new FakeClock(),
      stateDir,
    });
    await gateway.start();
    await gateway.registry.tick();
    io.counting = true;
    try {
      for (let call = 0; call < 5; call++) {
        await gateway.core.automaticEval({ toolName: 'notes.read_note' }, context);
        await gateway.core.automaticMcp({ query: 'read a note' }, context);
      }
    } finally {
      io.counting = false;
    }
    expect(io.calls).toEqual([]);
  });
});
