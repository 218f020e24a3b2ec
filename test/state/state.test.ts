/**
 * The state directory and what lives in it: where it is, the new per-server keys, the catalog cache's
 * tie to how a server is run, trusted hashes shared between processes, and status files of gateways
 * that are gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRuntime } from '../../src/config/load.js';
import { CatalogCache } from '../../src/state/catalogCache.js';
import { resolveStateDir } from '../../src/state/stateDir.js';
import { createStatusReporter, readGatewayStatuses, statusFilePath } from '../../src/state/statusFile.js';
import { TrustStore } from '../../src/state/trustFile.js';
import { REPO_ROOT } from '../helpers/config.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'automcp-state-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const runtime = (servers: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  parseRuntime({ file: '/srv/automcp/runtime.yaml', text: JSON.stringify({ version: 1, servers, ...extra }), env: {} });

describe('the state directory', () => {
  it('is stateDir from runtime.yaml, else $XDG_STATE_HOME/automcp, else ~/.local/state/automcp', () => {
    expect(resolveStateDir({ configured: '/var/lib/automcp', env: { XDG_STATE_HOME: '/x' }, home: '/home/u' })).toBe(
      '/var/lib/automcp',
    );
    expect(resolveStateDir({ env: { XDG_STATE_HOME: '/x' }, home: '/home/u' })).toBe('/x/automcp');
    expect(resolveStateDir({ env: {}, home: '/home/u' })).toBe('/home/u/.local/state/automcp');
    // A relative XDG_STATE_HOME is invalid by the spec and ignored.
    expect(resolveStateDir({ env: { XDG_STATE_HOME: 'relative' }, home: '/home/u' })).toBe('/home/u/.local/state/automcp');
  });

  it('resolves a relative stateDir against runtime.yaml', () => {
    expect(runtime({}, { stateDir: './state' }).stateDir).toBe('/srv/automcp/state');
    expect(runtime({}).stateDir).toBeUndefined();
  });
});

describe('per-server lifecycle keys', () => {
  it('accepts lazy, idleTimeoutSeconds and pinDefinitions, also as strings from ${VAR}', () => {
    const [server] = runtime({ s: { command: 'x', lazy: false, idleTimeoutSeconds: '0', pinDefinitions: 'true' } }).servers;
    expect(server).toMatchObject({ lazy: false, idleTimeoutSeconds: 0, pinDefinitions: true });
  });

  it('rejects a negative idle timeout, naming the key', () => {
    expect(() => runtime({ s: { command: 'x', idleTimeoutSeconds: -1 } })).toThrow(/servers\.s\.idleTimeoutSeconds/);
  });
});

describe('the catalog cache', () => {
  it('returns a list only for the settings it was read with, and never stores env values', async () => {
    const stateDir = await tempDir();
    const cache = new CatalogCache({ stateDir, now: () => Date.parse('2026-01-02T03:04:05Z') });
    const spec = { name: 'notes', command: 'notes-server', env: { TOKEN: 'sk-secret-value' } };
    const tools = [{ name: 'read', inputSchema: { type: 'object' as const } }];
    await cache.write(spec, tools);
    expect(await cache.read(spec)).toMatchObject({ server: 'notes', readAt: '2026-01-02T03:04:05.000Z', tools });
    expect(await cache.read({ ...spec, env: { TOKEN: 'another' } })).toBeUndefined();
    expect(await cache.read({ ...spec, args: ['--flag'] })).toBeUndefined();
    expect(await readFile(join(stateDir, 'catalog', 'notes.json'), 'utf8')).not.toContain('sk-secret-value');
  });

  it('treats a corrupt file as no cache', async () => {
    const stateDir = await tempDir();
    await mkdir(join(stateDir, 'catalog'), { recursive: true });
    await writeFile(join(stateDir, 'catalog', 'notes.json'), '{not json');
    expect(await new CatalogCache({ stateDir }).read({ name: 'notes', command: 'x' })).toBeUndefined();
  });
});

describe('trusted hashes', () => {
  it('trust the first hash seen, keep it on later sightings, and see replacements made by another process', async () => {
    const stateDir = await tempDir();
    const gateway = new TrustStore({ stateDir });
    await gateway.load('notes');
    await gateway.remember('notes', [{ name: 'notes.read', hash: 'aaaa' }]);
    await gateway.remember('notes', [{ name: 'notes.read', hash: 'bbbb' }]);
    expect(gateway.trusted('notes').get('notes.read')).toBe('aaaa');
    expect(await gateway.refresh('notes')).toBe(false);
    const version = gateway.version('notes');
    const { before } = await new TrustStore({ stateDir }).replace('notes', [{ name: 'notes.read', hash: 'bbbb' }]);
    expect(before.get('notes.read')).toBe('aaaa');
    // Memory only until the file is looked at again.
    expect(gateway.trusted('notes').get('notes.read')).toBe('aaaa');
    expect(await gateway.refresh('notes')).toBe(true);
    expect(gateway.trusted('notes').get('notes.read')).toBe('bbbb');
    expect(gateway.version('notes')).toBe(version + 1);
    expect(await gateway.refresh('notes')).toBe(false);
  });

  it('keep a trust written by another process while this one remembers a new tool', async () => {
    const stateDir = await tempDir();
    const gateway = new TrustStore({ stateDir });
    await gateway.load('notes');
    await gateway.remember('notes', [{ name: 'notes.read', hash: 'aaaa' }]);
    // Another process trusts a new definition; this one has not looked at the file since.
    await new TrustStore({ stateDir }).replace('notes', [{ name: 'notes.read', hash: 'bbbb' }]);
    await gateway.remember('notes', [{ name: 'notes.write', hash: 'cccc' }]);
    const file = JSON.parse(await readFile(join(stateDir, 'trusted', 'notes.json'), 'utf8')) as { tools: object };
    expect(file.tools).toEqual({ 'notes.read': 'bbbb', 'notes.write': 'cccc' });
    expect(Object.fromEntries(gateway.trusted('notes'))).toEqual(file.tools);
  });

  it('lose nothing when two processes trust tools of one server at the same time', async () => {
    const stateDir = await tempDir();
    const writers = ['a', 'b'].map((prefix) =>
      spawn(process.execPath, ['--import', TSX_LOADER, TRUST_WRITER, stateDir, prefix, String(WRITES)], {
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    try {
      // Both are loaded and waiting before either writes, so their writes overlap.
      await Promise.all(writers.map((child) => line(child, 'ready')));
      for (const child of writers) child.stdin?.write('go\n');
      await Promise.all(writers.map((child) => line(child, 'done')));
    } finally {
      for (const child of writers) child.kill();
    }
    const file = JSON.parse(await readFile(join(stateDir, 'trusted', 'shared.json'), 'utf8')) as { tools: object };
    expect(Object.keys(file.tools)).toHaveLength(2 * WRITES);
    expect(existsSync(join(stateDir, 'trusted', 'shared.json.lock'))).toBe(false);
  });

  it('break a lock left behind by a process that died holding it', async () => {
    const stateDir = await tempDir();
    const file = join(stateDir, 'trusted', 'notes.json');
    await mkdir(join(stateDir, 'trusted'), { recursive: true });
    await writeFile(`${file}.lock`, '99999999\n');
    const old = new Date(Date.now() - 60_000);
    await utimes(`${file}.lock`, old, old);
    await new TrustStore({ stateDir }).replace('notes', [{ name: 'notes.read', hash: 'aaaa' }]);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ tools: { 'notes.read': 'aaaa' } });
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});

const WRITES = 60;
const TSX_LOADER = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const TRUST_WRITER = join(REPO_ROOT, 'test', 'fixtures', 'trustWriter.ts');

/** Resolves when `child` prints `expected` on a line of its stdout. */
function line(child: ChildProcess, expected: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      if (buffered.split('\n').includes(expected)) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`trust writer exited (${code}) before "${expected}"`)));
  });
}

describe('status files', () => {
  it('are written when the status changes, removed on stop, and those of dead processes are dropped', async () => {
    const stateDir = await tempDir();
    let state = 'starting';
    const reporter = createStatusReporter({
      stateDir,
      config: '/srv/automcp/runtime.yaml',
      profile: 'default',
      status: () => [{ name: 'notes', state: state as 'starting', tools: 0 }],
    });
    await reporter.update();
    state = 'up';
    await reporter.update();
    const [mine] = await readGatewayStatuses(stateDir);
    expect(mine).toMatchObject({ pid: process.pid, profile: 'default', servers: [{ name: 'notes', state: 'up' }] });

    // A pid that cannot be running (beyond the kernel's pid range) stands for a gateway killed with SIGKILL.
    const stale = statusFilePath(stateDir, 99_999_999);
    await writeFile(stale, JSON.stringify({ pid: 99_999_999, servers: [] }));
    expect((await readGatewayStatuses(stateDir)).map((report) => report.pid)).toEqual([process.pid]);
    expect(existsSync(stale)).toBe(false);

    reporter.remove();
    expect(await readGatewayStatuses(stateDir)).toEqual([]);
  });
});
