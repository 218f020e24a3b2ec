/**
 * automcp import from fixture config files of every client format: what becomes of each entry (stdio,
 * remote, Windows paths, client variables), secrets moved to .env, comments kept, dry runs write nothing.
 */
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyImport, readSources, type ImportReport } from '../../src/clients/import.js';
import { CLIENTS } from '../../src/clients/registry.js';
import { loadConfig } from '../../src/config/load.js';
import { createMachine, type Machine } from './setup.js';

let machine: Machine;
let runtimeFile: string;

beforeEach(async () => {
  machine = await createMachine();
  runtimeFile = join(machine.root, 'config', 'runtime.yaml');
});
afterEach(async () => machine.cleanup());

async function importFrom(from: string, dryRun = false): Promise<ImportReport> {
  const sources = await readSources({ from, platform: machine.platform });
  return applyImport({ sources, runtimeFile, dryRun });
}

/** The servers of the written runtime.yaml as the gateway loads them, with `env` as the process environment. */
async function loaded(env: Record<string, string> = {}) {
  const config = await loadConfig({ path: runtimeFile, env });
  return Object.fromEntries(config.servers.map(({ name, ...server }) => [name, server]));
}

describe('import --from claude-desktop', () => {
  beforeEach(async () => {
    await machine.place(
      'claude_desktop_config.json',
      join(machine.root, 'home', '.config', 'Claude', 'claude_desktop_config.json'),
    );
  });

  it('imports stdio and remote entries, keeps Windows paths verbatim, skips automcp itself and names what it cannot carry over', async () => {
    const report = await importFrom('claude-desktop');
    expect(report.created).toBe(true);
    expect(report.plan.added.map((added) => added.name)).toEqual(['github', 'my-files', 'docs']);
    expect(report.plan.skipped).toEqual([
      expect.objectContaining({ where: 'mcpServers.automcp', reason: 'this is automcp itself' }),
      expect.objectContaining({ where: 'mcpServers.broken' }),
    ]);
    expect(report.plan.warnings).toEqual(
      expect.arrayContaining([
        expect.stringContaining('mcpServers["my files!"]: `alwaysAllow` not imported'),
        expect.stringContaining('mcpServers["my files!"] is named `my-files`'),
        expect.stringContaining('mcpServers.broken: neither `command` nor `url`; skipped'),
      ]),
    );
    const servers = await loaded();
    expect(servers['my-files']).toMatchObject({
      command: 'C:\\Program Files\\nodejs\\node.exe',
      args: ['C:\\Users\\me\\mcp\\files-server.js', 'D:\\Projects'],
    });
    expect(servers.docs).toEqual({
      url: 'https://docs.example.com/mcp',
      headers: { Authorization: 'Bearer abcdefghijklmnop1234' },
    });
    // The starter profiles come with a runtime.yaml created from nothing.
    expect((await readdir(join(machine.root, 'config', 'profiles'))).sort()).toEqual(['default.yaml', 'readonly.yaml']);
  });

  it('moves secrets to .env (mode 0600) and leaves no secret in runtime.yaml', async () => {
    const report = await importFrom('claude-desktop');
    expect(report.envAdded).toEqual(['GITHUB_PERSONAL_ACCESS_TOKEN', 'DOCS_AUTHORIZATION']);
    const yaml = await readFile(runtimeFile, 'utf8');
    expect(yaml).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
    expect(yaml).not.toContain('abcdefghijklmnop1234');
    expect(yaml).toContain('GITHUB_PERSONAL_ACCESS_TOKEN: ${GITHUB_PERSONAL_ACCESS_TOKEN}');
    expect(yaml).toContain('GITHUB_HOST: github.com');
    expect(yaml).toContain('Authorization: Bearer ${DOCS_AUTHORIZATION}');
    const env = await readFile(join(machine.root, 'config', '.env'), 'utf8');
    expect(env).toContain('GITHUB_PERSONAL_ACCESS_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n');
    expect((await stat(join(machine.root, 'config', '.env'))).mode & 0o777).toBe(0o600);
    // runtime.yaml reads .env; the process environment wins over it.
    const servers = await loaded({ DOCS_AUTHORIZATION: 'from-the-environment' });
    expect(servers.github?.env).toEqual({
      GITHUB_PERSONAL_ACCESS_TOKEN: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      GITHUB_HOST: 'github.com',
    });
    expect(servers.docs?.headers).toEqual({ Authorization: 'Bearer from-the-environment' });
  });

  it('keeps the comments, order and entries of an existing runtime.yaml, and a second import adds nothing', async () => {
    const before = [
      '# My gateway. Keep this comment.',
      'version: 1',
      'servers:',
      '  # the one I wrote by hand',
      '  zeta:',
      "    command: 'zeta-mcp'   # trailing comment",
      '    args: ["--fast"]',
      '',
      '# selector tuning',
      'selector:',
      '  candidates: 30',
      '',
    ].join('\n');
    await writeFile(runtimeFile.replace('runtime.yaml', ''), '').catch(() => undefined);
    await import('node:fs/promises').then((fs) => fs.mkdir(join(machine.root, 'config'), { recursive: true }));
    await writeFile(runtimeFile, before);
    await importFrom('claude-desktop');
    const after = await readFile(runtimeFile, 'utf8');
    expect(after.startsWith(before.split('\n\n')[0] as string)).toBe(true);
    expect(after).toContain('# selector tuning\nselector:\n  candidates: 30\n');
    expect(Object.keys(await loaded())).toEqual(['zeta', 'github', 'my-files', 'docs']);

    const again = await importFrom('claude-desktop');
    expect(again.plan.added).toEqual([]);
    expect(again.plan.skipped.map((skipped) => skipped.reason)).toContain('already in runtime.yaml as `github`');
    expect(await readFile(runtimeFile, 'utf8')).toBe(after);
  });

  it('--dry-run prints the diff and writes nothing', async () => {
    const report = await importFrom('claude-desktop', true);
    expect(report.diff).toContain('+  github:');
    expect(report.diff).not.toContain('ghp_');
    await expect(stat(join(machine.root, 'config'))).rejects.toThrow();

    await import('node:fs/promises').then((fs) => fs.mkdir(join(machine.root, 'config'), { recursive: true }));
    await writeFile(runtimeFile, 'version: 1\n# nothing yet\nservers: {}\n');
    const second = await importFrom('claude-desktop', true);
    expect(second.diff).toMatch(/^--- .*runtime\.yaml\n\+\+\+ .*runtime\.yaml\n@@ -1,3 \+1,/);
    expect(await readFile(runtimeFile, 'utf8')).toBe('version: 1\n# nothing yet\nservers: {}\n');
    expect(await readdir(join(machine.root, 'config'))).toEqual(['runtime.yaml']);
  });
});

describe('the other clients', () => {
  it('Claude Code: user and local scopes of ~/.claude.json and the project .mcp.json; ${VAR:-default} kept', async () => {
    await machine.place('claude.json', join(machine.platform.home, '.claude.json'), { PROJECT: machine.platform.cwd });
    await machine.place('mcp.project.json', join(machine.platform.cwd, '.mcp.json'));
    const report = await importFrom('claude-code');
    expect(report.plan.added.map((added) => [added.name, added.where])).toEqual([
      ['sentry', 'mcpServers.sentry'],
      ['memory', 'mcpServers.memory'],
      ['local-db', `projects[${JSON.stringify(machine.platform.cwd)}].mcpServers.local-db`],
      ['playwright', 'mcpServers.playwright'],
    ]);
    const yaml = await readFile(runtimeFile, 'utf8');
    expect(yaml).toContain('X-Api-Key: ${SENTRY_KEY:-none}');
    expect(yaml).not.toContain('hunter2');
    expect(report.envAdded).toEqual(['DB_PASSWORD']);
    const servers = await loaded();
    expect(servers.sentry).toEqual({ url: 'https://mcp.sentry.dev/sse', headers: { 'X-Api-Key': 'none' } });
    expect(servers['local-db']?.env).toEqual({ DB_PASSWORD: 'hunter2hunter2' });
  });

  it('Cursor: remote entries with headers, ${env:VAR}, disabled', async () => {
    await machine.place('cursor.json', join(machine.platform.home, '.cursor', 'mcp.json'));
    const report = await importFrom('cursor');
    expect(report.envAdded).toEqual(['LINEAR_AUTHORIZATION']);
    const servers = await loaded({ TIME_TOKEN: 't' });
    expect(servers.linear).toEqual({
      url: 'https://mcp.linear.app/sse',
      headers: { Authorization: 'Bearer lin_api_abcdefghijklmnop' },
    });
    expect(servers.time).toMatchObject({ command: 'uvx', env: { TZ: 'Europe/Paris', API_TOKEN: 't' }, enabled: false });
  });

  it('VS Code: `servers` and `type`, JSONC, `${input:…}` becomes a variable with a clear warning, workspace variables filled in', async () => {
    await machine.place('vscode.json', join(machine.platform.cwd, '.vscode', 'mcp.json'));
    const report = await importFrom('vscode');
    expect(report.plan.added.map((added) => added.name)).toEqual(['github', 'fs', 'remote']);
    expect(report.plan.skipped).toEqual([expect.objectContaining({ where: 'servers.sock' })]);
    expect(report.plan.warnings).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          'servers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN: VS Code input variable ${input:github-token} ("GitHub Personal Access Token") is a prompt automcp cannot show; runtime.yaml now reads ${GITHUB_TOKEN}: set GITHUB_TOKEN in the .env file',
        ),
        expect.stringContaining('servers.sock: transport type "ws" is not supported'),
      ]),
    );
    const yaml = await readFile(runtimeFile, 'utf8');
    expect(yaml).toContain('GITHUB_PERSONAL_ACCESS_TOKEN: ${GITHUB_TOKEN}');
    // Loading names the variable to set, rather than sending an empty token.
    await expect(loadConfig({ path: runtimeFile, env: {} })).rejects.toThrow(/GITHUB_TOKEN is not set/);
    const servers = await loaded({ GITHUB_TOKEN: 'x' });
    expect(servers.fs?.args).toEqual([
      '-y',
      '@modelcontextprotocol/server-filesystem',
      machine.platform.cwd,
      `${machine.platform.home}/notes`,
    ]);
    expect(servers.remote).toEqual({ url: 'https://api.example.com/mcp', headers: { 'X-Trace': 'on' } });
  });

  it('Windsurf: serverUrl, and unsupported fields named', async () => {
    await machine.place('mcp_config.json', join(machine.platform.home, '.codeium', 'windsurf', 'mcp_config.json'));
    const report = await importFrom('windsurf');
    expect(report.plan.warnings).toEqual([expect.stringContaining('mcpServers.context7: `disabledTools` not imported')]);
    expect(report.envAdded).toEqual(['BRAVE_API_KEY']);
    const servers = await loaded();
    expect(servers.context7).toEqual({ url: 'https://mcp.context7.com/mcp' });
  });

  it('Codex: TOML tables, env_vars, bearer_token_env_var, headers and timeouts', async () => {
    await machine.place('config.toml', join(machine.platform.home, '.codex', 'config.toml'));
    const report = await importFrom('codex');
    expect(report.plan.warnings).toEqual([expect.stringContaining('mcp_servers.context7: `startup_timeout_sec` not imported')]);
    const servers = await loaded({ CONTEXT7_KEY: 'k', FIGMA_OAUTH_TOKEN: 'f', FIGMA_TEAM: 'team' });
    expect(servers.context7).toMatchObject({ command: 'npx', env: { CONTEXT7_KEY: 'k' }, timeoutMs: 90_000 });
    expect(servers.figma).toEqual({
      url: 'https://mcp.figma.com/mcp',
      headers: { 'X-Figma-Region': 'us-east-1', Authorization: 'Bearer f', 'X-Team': 'team' },
    });
  });

  it('--from PATH tells the format from the file', async () => {
    for (const [fixture, servers] of [
      ['vscode.json', ['github', 'fs', 'remote']],
      ['config.toml', ['context7', 'figma']],
      ['mcp_config.json', ['context7', 'brave']],
      ['cursor.json', ['linear', 'time']],
    ] as const) {
      const file = join(machine.root, 'from', fixture);
      await machine.place(fixture, file);
      const sources = await readSources({ from: file, platform: machine.platform });
      expect(sources[0]?.servers.filter((server) => server.server).map((server) => server.name)).toEqual(servers);
    }
  });

  it('a client with no config file, or a file that does not parse, is one clear error', async () => {
    await expect(readSources({ from: 'cursor', platform: machine.platform })).rejects.toThrow(
      /^no cursor configuration found \(looked for .*\.cursor\/mcp\.json, .*\); pass --from PATH$/,
    );
    const file = join(machine.root, 'bad.json');
    await writeFile(file, '{ "mcpServers": { "x": ');
    await expect(readSources({ from: file, platform: machine.platform })).rejects.toThrow(/bad\.json: not valid JSON at line 1/);
  });
});

describe('client locations', () => {
  it('follow each OS', () => {
    const at = (os: NodeJS.Platform, home: string, env: Record<string, string> = {}) => ({ os, home, env, cwd: home });
    const win = at('win32', 'C:\\Users\\me', { APPDATA: 'C:\\Users\\me\\AppData\\Roaming' });
    const mac = at('darwin', '/Users/me');
    const linux = at('linux', '/home/me', { XDG_CONFIG_HOME: '/home/me/.xdg' });
    const first = (client: keyof typeof CLIENTS, platform: ReturnType<typeof at>) => CLIENTS[client].locations(platform)[0]?.file;
    expect(first('claude-desktop', win)).toBe('C:\\Users\\me\\AppData\\Roaming\\Claude\\claude_desktop_config.json');
    expect(first('claude-desktop', mac)).toBe('/Users/me/Library/Application Support/Claude/claude_desktop_config.json');
    expect(first('claude-desktop', linux)).toBe('/home/me/.xdg/Claude/claude_desktop_config.json');
    expect(first('vscode', win)).toBe('C:\\Users\\me\\AppData\\Roaming\\Code\\User\\mcp.json');
    expect(first('vscode', mac)).toBe('/Users/me/Library/Application Support/Code/User/mcp.json');
    expect(first('claude-code', win)).toBe('C:\\Users\\me\\.claude.json');
    expect(first('cursor', win)).toBe('C:\\Users\\me\\.cursor\\mcp.json');
    expect(first('windsurf', mac)).toBe('/Users/me/.codeium/windsurf/mcp_config.json');
    expect(first('codex', win)).toBe('C:\\Users\\me\\.codex\\config.toml');
    expect(first('codex', at('linux', '/home/me', { CODEX_HOME: '/srv/codex' }))).toBe('/srv/codex/config.toml');
  });
});
