/**
 * The review record in a server's trust file: written only by an approval, kept by every other trust
 * write (first sight, `automcp trust`), read back by another process, and ignored when malformed.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerSpec } from '../../src/config/load.js';
import { entryFingerprint, isQuarantined } from '../../src/downstream/review.js';
import { TrustStore } from '../../src/state/trustFile.js';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'automcp-record-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

const spec = (extra: Partial<ServerSpec> = {}): ServerSpec => ({ name: 'added', command: 'node', args: ['server.js'], ...extra });

describe('the review record', () => {
  it('is written by approve, kept by remember and replace, and seen by another store', async () => {
    const store = new TrustStore({ stateDir, now: () => Date.UTC(2026, 0, 1) });
    await store.load('added');
    await store.approve('added', { entry: entryFingerprint(spec()), tools: [{ name: 'added.t', hash: 'aaaa' }] });
    await store.remember('added', [{ name: 'added.u', hash: 'bbbb' }]);
    await store.replace('added', [{ name: 'added.t', hash: 'cccc' }]);
    const file = JSON.parse(await readFile(join(stateDir, 'trusted', 'added.json'), 'utf8')) as Record<string, unknown>;
    expect(file.tools).toEqual({ 'added.t': 'cccc' });
    expect(file.review).toEqual({
      approvedAt: '2026-01-01T00:00:00.000Z',
      entry: entryFingerprint(spec()),
      tools: { 'added.t': 'aaaa' },
    });

    const other = new TrustStore({ stateDir });
    await other.load('added');
    expect(other.review('added')?.tools).toEqual({ 'added.t': 'aaaa' });
    expect(isQuarantined(spec({ quarantine: true }), other)).toBe(false);
    expect(isQuarantined(spec({ quarantine: true, args: ['other.js'] }), other)).toBe(true);
    expect(isQuarantined(spec(), new TrustStore({ stateDir }))).toBe(false);
  });

  it('moves the version when only the review changes, so running gateways filter again', async () => {
    const store = new TrustStore({ stateDir });
    await store.load('added');
    await store.replace('added', [{ name: 'added.t', hash: 'aaaa' }]);
    const before = store.version('added');
    await store.approve('added', { entry: 'e', tools: [{ name: 'added.t', hash: 'aaaa' }] });
    expect(store.version('added')).toBeGreaterThan(before);
  });

  it('counts a malformed record as no approval', async () => {
    const file = join(stateDir, 'trusted', 'added.json');
    await new TrustStore({ stateDir }).replace('added', []);
    await writeFile(file, JSON.stringify({ server: 'added', tools: {}, review: { entry: 42, tools: 'all' } }));
    const store = new TrustStore({ stateDir });
    await store.load('added');
    expect(store.review('added')).toBeUndefined();
    expect(isQuarantined(spec({ quarantine: true }), store)).toBe(true);
  });

  it('fingerprints what runs, not secrets that rotate', () => {
    const base = entryFingerprint(spec({ env: { TOKEN: 'one' } }));
    expect(entryFingerprint(spec({ env: { TOKEN: 'two' } }))).toBe(base);
    expect(entryFingerprint(spec({ env: { TOKEN: 'one', NODE_OPTIONS: 'x' } }))).not.toBe(base);
    expect(entryFingerprint(spec({ env: { TOKEN: 'one' }, command: 'python' }))).not.toBe(base);
    expect(entryFingerprint(spec({ env: { TOKEN: 'one' }, description: 'other words', quarantine: true }))).toBe(base);
  });
});
