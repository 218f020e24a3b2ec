/**
 * The adoption commands from the built CLI: what they print, their exit codes, and that a dry run or a
 * mistake writes nothing. HOME and the XDG folders point into a temporary folder.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/gateway.js';
import { FIXTURES } from './setup.js';

let root: string;
let env: Record<string, string>;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'automcp-adopt-cli-'));
  env = {
    HOME: join(root, 'home'),
    XDG_CONFIG_HOME: join(root, 'home', '.config'),
    XDG_STATE_HOME: join(root, 'home', '.local', 'state'),
    AUTOMCP_CONFIG: '',
  };
  await mkdir(join(root, 'home', '.config', 'Claude'), { recursive: true });
});
afterEach(async () => rm(root, { recursive: true, force: true }));

describe('automcp import', () => {
  it('--dry-run prints the diff, the .env names without values, and writes nothing', async () => {
    const from = join(root, 'claude_desktop_config.json');
    await writeFile(from, await readFile(join(FIXTURES, 'claude_desktop_config.json')));
    // The CLI runs in the repository, which has a runtime.yaml: name a folder that does not exist yet.
    const result = await runCli(['import', '--from', from, '--config', join(root, 'cfg'), '--dry-run'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`--- /dev/null\n+++ ${join(root, 'cfg', 'runtime.yaml')}`);
    expect(result.stdout).toContain('+    env:\n+      GITHUB_PERSONAL_ACCESS_TOKEN: ${GITHUB_PERSONAL_ACCESS_TOKEN}');
    expect(result.stdout).toContain('would get GITHUB_PERSONAL_ACCESS_TOKEN, DOCS_AUTHORIZATION (values not shown)');
    expect(result.stdout).not.toContain('ghp_');
    expect(result.stdout.trimEnd().endsWith('Dry run: nothing was written.')).toBe(true);
    expect(result.stderr).toContain('warning: ');
    expect((await readdir(root)).sort()).toEqual(['claude_desktop_config.json', 'home']);
    expect(await readdir(join(root, 'home', '.config'))).toEqual(['Claude']);
  });

  it('a client with no configuration is one line on stderr and exit 1', async () => {
    const result = await runCli(['import', '--from', 'windsurf'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^automcp: no windsurf configuration found \(looked for .*mcp_config\.json\); pass --from PATH\n$/,
    );
  });
});

describe('automcp install / uninstall', () => {
  it('an unknown client is refused by the option parser', async () => {
    const result = await runCli(['install', '--client', 'notepad'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("argument 'notepad' is invalid. Allowed choices are claude-desktop, claude-code");
  });

  it('prints what it changed, and uninstall restores the file', async () => {
    const file = join(root, 'home', '.config', 'Claude', 'claude_desktop_config.json');
    const original = '{\n  "mcpServers": {\n    "time": { "command": "uvx", "args": ["mcp-server-time"] }\n  }\n}\n';
    await writeFile(file, original);
    const install = await runCli(['install', '--client', 'claude-desktop', '--profile', 'default'], env);
    expect(install.code).toBe(0);
    expect(install.stdout).toContain(`Backup of ${file}: ${file}.automcp-backup`);
    expect(install.stdout).toMatch(
      /Wrote the automcp entry into .*\n {2}\S*node\S* \S*dist\/cli\/main\.js serve --config \S*runtime\.yaml --profile default\n/,
    );
    const uninstall = await runCli(['uninstall', '--client', 'claude-desktop'], env);
    expect(uninstall.stdout).toBe(`Restored ${file} as it was before automcp install.\n`);
    expect(await readFile(file, 'utf8')).toBe(original);
  });
});

describe('automcp init', () => {
  it('writes the starter once; a second run keeps the files', async () => {
    const first = await runCli(['init'], env);
    expect(first.stdout).toContain(`wrote ${join(root, 'home', '.config', 'automcp', 'runtime.yaml')}`);
    const second = await runCli(['init'], env);
    expect(second.stdout).toContain('kept  ');
    expect(second.stdout).not.toContain('wrote ');
  });
});
