/**
 * What `automcp trust <server>` does, without the command line: start the server, list it, trust its
 * current hashes and report what changed against the hashes trusted before.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { loadHasher } from '../../src/catalog/hash.js';
import { trustServer } from '../../src/downstream/trust.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { FakeDownstream, inMemoryTransports, toolDefinition } from '../helpers/inprocess.js';

let stateDir: string | undefined;
afterEach(async () => {
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('trustServer', () => {
  it('trusts the listed definitions and reports new, changed and removed tools', async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'automcp-trust-'));
    const notes = new FakeDownstream('notes', [
      { definition: toolDefinition('read', 'Read a note'), handler: () => ({ content: [] }) },
      { definition: toolDefinition('write', 'Write a note'), handler: () => ({ content: [] }) },
    ]);
    const catalog = new Catalog(await loadHasher());
    const hashes = notes.tools.map((tool) => catalog.toCatalogTool('notes', tool.definition).hash);
    await mkdir(join(stateDir, 'trusted'));
    await writeFile(
      join(stateDir, 'trusted', 'notes.json'),
      JSON.stringify({ server: 'notes', tools: { 'notes.read': 'old-hash', 'notes.gone': 'gone-hash' } }),
    );

    const report = await trustServer({
      spec: { name: 'notes', command: 'fake', pinDefinitions: true },
      stateDir,
      cwd: stateDir,
      logger: createSilentLogger(),
      transports: inMemoryTransports([notes]),
    });

    expect(report).toEqual({
      server: 'notes',
      trusted: 2,
      changes: [
        { tool: 'notes.read', before: 'old-hash', after: hashes[0] },
        { tool: 'notes.write', before: null, after: hashes[1] },
      ],
      removed: ['notes.gone'],
    });
    const file = JSON.parse(await readFile(join(stateDir, 'trusted', 'notes.json'), 'utf8')) as { tools: object };
    expect(file.tools).toEqual({ 'notes.read': hashes[0], 'notes.write': hashes[1] });
  });

  it('fails, writing nothing, when the server cannot be started', async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'automcp-trust-'));
    await expect(
      trustServer({
        spec: { name: 'notes', command: 'fake' },
        stateDir,
        cwd: stateDir,
        logger: createSilentLogger(),
        transports: inMemoryTransports([]),
      }),
    ).rejects.toThrow(/cannot start "notes"/);
    await expect(readFile(join(stateDir, 'trusted', 'notes.json'))).rejects.toThrow(/ENOENT/);
  });
});
