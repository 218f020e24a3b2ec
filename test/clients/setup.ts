/** A temporary machine for client tests: a home folder, a project folder, and the fixture files placed where each client keeps them. */
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Platform } from '../../src/clients/types.js';

/** The fixture folder. */
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** A temporary Linux-like machine. */
export interface Machine {
  root: string;
  platform: Platform;
  /** Copies fixture `name` to `file`, creating folders; with `replace`, substitutes text first. */
  place(name: string, file: string, replace?: Record<string, string>): Promise<void>;
  cleanup(): Promise<void>;
}

/** Creates a machine under a fresh temporary folder. */
export async function createMachine(): Promise<Machine> {
  const root = await mkdtemp(join(tmpdir(), 'automcp-clients-'));
  const home = join(root, 'home');
  const cwd = join(root, 'project');
  await mkdir(cwd, { recursive: true });
  const platform: Platform = { os: 'linux', env: { HOME: home }, home, cwd };
  return {
    root,
    platform,
    async place(name, file, replace = {}) {
      await mkdir(dirname(file), { recursive: true });
      if (Object.keys(replace).length === 0) {
        await copyFile(join(FIXTURES, name), file);
        return;
      }
      let text = await readFile(join(FIXTURES, name), 'utf8');
      for (const [from, to] of Object.entries(replace)) text = text.split(from).join(to);
      const { writeFile } = await import('node:fs/promises');
      await writeFile(file, text);
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
