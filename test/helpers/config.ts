/**
 * Temporary configuration folders for integration tests: a runtime.yaml and profiles/*.yaml written
 * into a fresh temp dir, plus the absolute commands of the real npm servers and the fixture servers.
 * Configs are written as JSON, which is valid YAML, so what a test states is exactly what the gateway reads.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { mkdtemp, mkdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root (this file is test/helpers/config.ts). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
/** The built CLI; integration tests need `npm run build` first. */
export const CLI_PATH = join(REPO_ROOT, 'dist', 'cli', 'main.js');

const TSX_LOADER = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const NPM_SERVERS = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol');

/** One downstream server entry of runtime.yaml (the stdio and HTTP fields the tests use). */
export interface ServerEntry {
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  url?: string;
  description?: string;
  timeoutMs?: number;
  enabled?: boolean;
  lazy?: boolean;
  idleTimeoutSeconds?: number;
  pinDefinitions?: boolean;
  quarantine?: boolean;
  instances?: 'shared' | 'per-caller';
}

/** The fixture servers in test/fixtures/servers. */
export type FixtureName = 'echo' | 'slow' | 'crash' | 'noisy' | 'hang' | 'faulty' | 'poisoned';

/** A runtime.yaml entry that runs a fixture server under tsx with absolute paths. */
export function fixtureServer(name: FixtureName, extra: Omit<ServerEntry, 'command' | 'args'> = {}): ServerEntry {
  const file = join(REPO_ROOT, 'test', 'fixtures', 'servers', `${name}-server.ts`);
  return { command: process.execPath, args: ['--import', TSX_LOADER, file], ...extra };
}

/** The real filesystem server, allowed to touch `root` only. */
export function filesystemServer(root: string, extra: Omit<ServerEntry, 'command' | 'args'> = {}): ServerEntry {
  return { command: process.execPath, args: [join(NPM_SERVERS, 'server-filesystem', 'dist', 'index.js'), root], ...extra };
}

/** The real memory server, storing its graph in `memoryFile` (always a temp path, never the repo). */
export function memoryServer(memoryFile: string, extra: Omit<ServerEntry, 'command' | 'args' | 'env'> = {}): ServerEntry {
  return {
    command: process.execPath,
    args: [join(NPM_SERVERS, 'server-memory', 'dist', 'index.js')],
    env: { MEMORY_FILE_PATH: memoryFile },
    ...extra,
  };
}

/** The real "everything" reference server on stdio. */
export function everythingServer(extra: Omit<ServerEntry, 'command' | 'args'> = {}): ServerEntry {
  return { command: process.execPath, args: [join(NPM_SERVERS, 'server-everything', 'dist', 'index.js'), 'stdio'], ...extra };
}

/** A fresh, empty temp dir (symlinks resolved, so paths match what servers report). */
export async function makeTempDir(prefix = 'automcp-int-'): Promise<string> {
  return realpath(await mkdtemp(join(tmpdir(), prefix)));
}

/**
 * A fresh temp dir to use as `XDG_STATE_HOME` of a spawned gateway, so no test reads the user's
 * catalog cache or shares one with another test. Synchronous so spawn helpers can make one inline.
 */
export function makeTempStateDir(): { dir: string; cleanup(): void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'automcp-state-')));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A written configuration folder. */
export interface TempConfig {
  /** The folder holding runtime.yaml and profiles/; pass it to `--config`. */
  dir: string;
  runtimeFile: string;
  profilesDir: string;
  /** Removes the folder and everything the tests put in it. */
  cleanup(): Promise<void>;
}

/** Writes runtime.yaml (with `version: 1` unless given) and one profiles/<name>.yaml per entry of `profiles`. */
export async function writeConfigDir({
  runtime,
  profiles = {},
  dir,
}: {
  runtime: { servers: Record<string, ServerEntry>; [key: string]: unknown };
  profiles?: Record<string, Record<string, unknown>>;
  /** An existing folder to write into; default: a new temp dir. */
  dir?: string;
}): Promise<TempConfig> {
  const root = dir ?? (await makeTempDir());
  const profilesDir = join(root, 'profiles');
  await mkdir(profilesDir, { recursive: true });
  const runtimeFile = join(root, 'runtime.yaml');
  await writeFile(runtimeFile, `${JSON.stringify({ version: 1, profilesDir: './profiles', ...runtime }, null, 2)}\n`);
  for (const [name, profile] of Object.entries(profiles)) {
    await writeFile(join(profilesDir, `${name}.yaml`), `${JSON.stringify(profile, null, 2)}\n`);
  }
  return { dir: root, runtimeFile, profilesDir, cleanup: () => rm(root, { recursive: true, force: true }) };
}
