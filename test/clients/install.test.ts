/**
 * automcp install / uninstall against fixture client files: the entry each format gets, formatting kept,
 * --replace moving the client's servers behind automcp, and an install/uninstall round trip that leaves
 * the client file byte-identical.
 */
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { install, uninstall, type InstallContext } from '../../src/clients/install.js';
import { parseJsonc } from '../../src/clients/json.js';
import { CLIENTS } from '../../src/clients/registry.js';
import type { ClientName } from '../../src/clients/types.js';
import { loadConfig } from '../../src/config/load.js';
import { createMachine, type Machine } from './setup.js';

let machine: Machine;
let context: InstallContext;
let runtimeFile: string;

beforeEach(async () => {
  machine = await createMachine();
  runtimeFile = join(machine.root, 'config', 'runtime.yaml');
  context = {
    platform: machine.platform,
    stateDir: join(machine.root, 'state'),
    node: '/usr/bin/node',
    cli: '/opt/automcp/dist/cli/main.js',
  };
});
afterEach(async () => machine.cleanup());

const fixtures: [ClientName, string][] = [
  ['claude-desktop', 'claude_desktop_config.json'],
  ['claude-code', 'claude.json'],
  ['cursor', 'cursor.json'],
  ['vscode', 'vscode.json'],
  ['windsurf', 'mcp_config.json'],
  ['codex', 'config.toml'],
];

/** The fixtures without their entries that cannot be imported (Claude Desktop's `broken`, VS Code's `sock`). */
function withoutUnimportable(text: string): string {
  return text.replace(/,\n\s*"broken": \{[^}]*\}/, '').replace(/\n\s*"sock": \{[^}]*\},/, '');
}

const fileOf = (client: ClientName) => CLIENTS[client].locations(machine.platform)[0]?.file as string;

describe('install then uninstall leaves the client file byte-identical', () => {
  for (const [client, fixture] of fixtures) {
    for (const replace of [false, true]) {
      it(`${client}${replace ? ' --replace' : ''}`, async () => {
        const file = fileOf(client);
        await machine.place(fixture, file, { PROJECT: machine.platform.cwd });
        // --replace refuses to drop entries it cannot import (tested below): these fixtures have one each.
        if (replace) await writeFile(file, withoutUnimportable(await readFile(file, 'utf8')));
        const original = await readFile(file);
        const report = await install({ client, replace, config: runtimeFile, profile: 'default' }, context);
        expect(report.backup).toBe(`${file}.automcp-backup`);
        expect(await readFile(`${file}.automcp-backup`)).toEqual(original);
        expect((await stat(`${file}.automcp-backup`)).mode & 0o777).toBe(0o600);
        const written = await readFile(file, 'utf8');
        expect(written).toContain('/opt/automcp/dist/cli/main.js');
        expect(await uninstall({ client }, context)).toMatchObject({ action: 'restored' });
        expect(await readFile(file)).toEqual(original);
        await expect(stat(`${file}.automcp-backup`)).rejects.toThrow();
      });
    }
  }

  it('a file that did not exist is removed again', async () => {
    const file = fileOf('cursor');
    await install({ client: 'cursor', config: runtimeFile }, context);
    expect(parseJsonc(await readFile(file, 'utf8'), file)).toEqual({
      mcpServers: {
        automcp: { command: '/usr/bin/node', args: ['/opt/automcp/dist/cli/main.js', 'serve', '--config', runtimeFile] },
      },
    });
    // The entry points at a configuration that exists.
    expect((await readdir(join(machine.root, 'config'))).sort()).toEqual(['profiles', 'runtime.yaml']);
    expect(await uninstall({ client: 'cursor' }, context)).toMatchObject({ action: 'restored' });
    await expect(stat(file)).rejects.toThrow();
  });
});

describe('install', () => {
  it('adds one entry in the file own formatting (VS Code JSONC: comments, `servers`, `type`)', async () => {
    const file = fileOf('vscode');
    const text = '{\n\t// mine\n\t"servers": {\n\t\t"a": { "type": "stdio", "command": "a" }\n\t}\n}\n';
    await machine.place('vscode.json', file);
    await writeFile(file, text);
    await install({ client: 'vscode', config: runtimeFile, profile: 'readonly' }, context);
    const after = await readFile(file, 'utf8');
    expect(
      after.startsWith(
        '{\n\t// mine\n\t"servers": {\n\t\t"a": { "type": "stdio", "command": "a" },\n\t\t"automcp": {\n\t\t\t"type": "stdio"',
      ),
    ).toBe(true);
    // Taking the entry out again gives back the text, whatever uninstall finds.
    expect(CLIENTS.vscode.remove(after)).toBe(text);
    expect(parseJsonc(after, file).servers).toMatchObject({
      automcp: { args: ['/opt/automcp/dist/cli/main.js', 'serve', '--config', runtimeFile, '--profile', 'readonly'] },
    });
  });

  it('--replace imports the servers behind automcp and leaves automcp the only entry; other settings stay', async () => {
    const file = fileOf('claude-desktop');
    await machine.place('claude_desktop_config.json', file);
    await expect(install({ client: 'claude-desktop', replace: true, config: runtimeFile }, context)).rejects.toThrow(
      /--replace would drop mcpServers\.broken \(mcpServers\.broken: neither `command` nor `url`; skipped\); fix or remove them in .* first/,
    );
    await expect(stat(runtimeFile)).rejects.toThrow();
    await writeFile(file, withoutUnimportable(await readFile(file, 'utf8')));
    const report = await install({ client: 'claude-desktop', replace: true, config: runtimeFile }, context);
    // The old automcp entry is replaced, not imported.
    expect(report.removed).toEqual(['github', 'my files!', 'docs']);
    const data = parseJsonc(await readFile(file, 'utf8'), file);
    expect(Object.keys(data.mcpServers as object)).toEqual(['automcp']);
    expect(data.globalShortcut).toBe('Ctrl+Space');
    const config = await loadConfig({ path: runtimeFile, env: {} });
    expect(config.servers.map((server) => server.name)).toEqual(['github', 'my-files', 'docs']);
  });

  it('Codex: appends a table, keeps comments; --replace removes the server tables', async () => {
    const file = fileOf('codex');
    await machine.place('config.toml', file);
    const original = await readFile(file, 'utf8');
    await install({ client: 'codex', config: runtimeFile }, context);
    const plain = await readFile(file, 'utf8');
    expect(plain.startsWith(original)).toBe(true);
    expect(plain.slice(original.length)).toBe(
      `\n[mcp_servers.automcp]\ncommand = "/usr/bin/node"\nargs = [ "/opt/automcp/dist/cli/main.js", "serve", "--config", "${runtimeFile}" ]\n`,
    );
    await install({ client: 'codex', config: runtimeFile, replace: true }, context);
    const replaced = await readFile(file, 'utf8');
    expect(replaced).toContain('# keep this comment\n[profiles.fast]\nmodel = "gpt-5-mini"\n');
    expect(replaced).not.toContain('context7');
    expect(replaced).not.toContain('figma');
    expect(replaced.match(/\[mcp_servers\.automcp\]/g)).toHaveLength(1);
    // Installed twice: the backup is still the file before the first install.
    expect(await readFile(`${file}.automcp-backup`, 'utf8')).toBe(original);
    await uninstall({ client: 'codex' }, context);
    expect(await readFile(file, 'utf8')).toBe(original);
  });

  it('dry run writes nothing', async () => {
    const file = fileOf('claude-desktop');
    await machine.place('claude_desktop_config.json', file);
    await writeFile(file, withoutUnimportable(await readFile(file, 'utf8')));
    const before = await readFile(file);
    const report = await install({ client: 'claude-desktop', replace: true, config: runtimeFile, dryRun: true }, context);
    expect(report.diff).toContain('-    "github": {');
    expect(report.imported?.diff).toContain('+  github:');
    expect(await readFile(file)).toEqual(before);
    await expect(stat(runtimeFile)).rejects.toThrow();
    await expect(stat(context.stateDir)).rejects.toThrow();
  });
  it('run from npx, the entry runs `npx -y automcp` rather than a path in npx cache', async () => {
    const file = fileOf('claude-desktop');
    await install({ client: 'claude-desktop', config: runtimeFile }, { ...context, npx: '/usr/bin/npx' });
    expect(parseJsonc(await readFile(file, 'utf8'), file).mcpServers).toEqual({
      automcp: { command: '/usr/bin/npx', args: ['-y', 'automcp', 'serve', '--config', runtimeFile] },
    });
  });

  it('refuses a profile that does not exist, before writing anything', async () => {
    const file = fileOf('cursor');
    await machine.place('cursor.json', file);
    const before = await readFile(file);
    await expect(install({ client: 'cursor', config: runtimeFile, profile: 'reviewer', replace: true }, context)).rejects.toThrow(
      `profile "reviewer" does not exist in ${join(machine.root, 'config', 'profiles')} (known: default, readonly); create reviewer.yaml there or pick one of them`,
    );
    expect(await readFile(file)).toEqual(before);
    await expect(stat(runtimeFile)).rejects.toThrow();
  });
});

describe('uninstall', () => {
  it('after the file was edited, takes out only the automcp entry and points at the backup', async () => {
    const file = fileOf('cursor');
    await machine.place('cursor.json', file);
    await install({ client: 'cursor', config: runtimeFile, replace: true }, context);
    const edited = (await readFile(file, 'utf8')).replace(
      '"mcpServers": {',
      '"mcpServers": {\n    "new": { "command": "new-mcp" },',
    );
    await writeFile(file, edited);
    expect(await uninstall({ client: 'cursor' }, context)).toEqual({
      client: 'cursor',
      file,
      action: 'removed-entry',
      backup: `${file}.automcp-backup`,
    });
    expect(parseJsonc(await readFile(file, 'utf8'), file)).toEqual({ mcpServers: { new: { command: 'new-mcp' } } });
    expect(await uninstall({ client: 'cursor' }, context)).toMatchObject({ action: 'not-installed' });
  });

  it('with its backup deleted, takes out only the automcp entry', async () => {
    const file = fileOf('windsurf');
    await machine.place('mcp_config.json', file);
    const original = await readFile(file, 'utf8');
    await install({ client: 'windsurf', config: runtimeFile }, context);
    await rm(`${file}.automcp-backup`);
    expect(await uninstall({ client: 'windsurf' }, context)).toMatchObject({ action: 'removed-entry' });
    expect(await readFile(file, 'utf8')).toBe(original);
  });
});
