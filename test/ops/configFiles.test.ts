/**
 * The ops tools' file edits keep what a person wrote: comments and order around the values an edit
 * does not touch, the previous file as `.bak`, and nothing at all when the check refuses the edit.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { editYamlFile } from '../../src/ops/configFiles.js';

const RUNTIME = `# automcp runtime, kept by hand
version: 1
profilesDir: ./profiles # relative to this file

servers:
  # the notes server: do not remove, the team needs it
  notes:
    command: node
    args: [notes.js] # pinned build
  old:
    command: node
    args: [old.js]
`;

async function runtimeFile(): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'automcp-edit-')), 'runtime.yaml');
  await writeFile(file, RUNTIME);
  return file;
}

describe('editYamlFile', () => {
  it('keeps comments and order around an added and a removed server', async () => {
    const file = await runtimeFile();
    const edit = await editYamlFile({
      file,
      change: (doc) => {
        const servers = { ...(doc.servers as Record<string, unknown>) };
        delete servers.old;
        servers.echo = { command: 'node', args: ['echo.js'], description: 'Echoes messages' };
        return { ...doc, servers };
      },
      check: () => undefined,
    });
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# automcp runtime, kept by hand');
    expect(text).toContain('# relative to this file');
    expect(text).toContain('# the notes server: do not remove, the team needs it');
    expect(text).toContain('# pinned build');
    expect(text).not.toContain('old.js');
    expect(text.indexOf('notes:')).toBeLessThan(text.indexOf('echo:'));
    expect(load(text)).toEqual(edit.after);
    expect(await readFile(edit.backup!, 'utf8')).toBe(RUNTIME);
  });

  it('writes nothing when the check refuses the edited text', async () => {
    const file = await runtimeFile();
    await expect(
      editYamlFile({
        file,
        change: (doc) => ({ ...doc, version: 2 }),
        check: (text) => {
          if (text.includes('version: 2')) throw new Error('version must be 1');
        },
      }),
    ).rejects.toThrow('version must be 1');
    expect(await readFile(file, 'utf8')).toBe(RUNTIME);
  });

  it('creates a file that did not exist', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'automcp-edit-')), 'profiles', 'new.yaml');
    const edit = await editYamlFile({
      file,
      change: () => ({ description: 'New', tools: { allow: ['*'] } }),
      check: () => undefined,
    });
    expect(edit.backup).toBeUndefined();
    expect(load(await readFile(file, 'utf8'))).toEqual({ description: 'New', tools: { allow: ['*'] } });
  });
});
