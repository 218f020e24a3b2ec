/**
 * The version is written once, in package.json: serverInfo, clientInfo and `--version` read it from there.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';

const root = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('version', () => {
  it("is package.json's, and no source file spells it out", () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(version);
    const literal = new RegExp(`['"\`]${version.replaceAll('.', '\\.')}['"\`]`);
    const spelled = sources(join(root, 'src')).filter((file) => literal.test(readFileSync(file, 'utf8')));
    expect(spelled).toEqual([]);
  });
});
