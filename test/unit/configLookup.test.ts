/** Where runtime.yaml is found (--config, AUTOMCP_CONFIG, ./runtime.yaml, the user's config folder), and the .env beside it. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatDotenvLine, parseDotenv } from '../../src/config/dotenv.js';
import { findConfigPath, loadConfig, resolveConfigPath, userConfigDir } from '../../src/config/load.js';

let root: string;
let cwd: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'automcp-lookup-'));
  cwd = process.cwd();
  await mkdir(join(root, 'project'));
  process.chdir(join(root, 'project'));
});
afterEach(async () => {
  process.chdir(cwd);
  await rm(root, { recursive: true, force: true });
});

describe('config lookup', () => {
  it('--config, else AUTOMCP_CONFIG, else ./runtime.yaml, else $XDG_CONFIG_HOME/automcp/runtime.yaml', async () => {
    const env = { XDG_CONFIG_HOME: join(root, 'xdg'), HOME: join(root, 'home') };
    expect(await findConfigPath(undefined, env)).toBeUndefined();
    await expect(resolveConfigPath(undefined, env)).rejects.toThrow(
      `file not found, nor ${join(root, 'xdg', 'automcp', 'runtime.yaml')} (pass --config with runtime.yaml or its folder, or run \`automcp init\`)`,
    );
    await mkdir(join(root, 'xdg', 'automcp'), { recursive: true });
    await writeFile(join(root, 'xdg', 'automcp', 'runtime.yaml'), 'version: 1\n');
    expect(await findConfigPath(undefined, env)).toBe(join(root, 'xdg', 'automcp', 'runtime.yaml'));
    await writeFile(join(root, 'project', 'runtime.yaml'), 'version: 1\n');
    expect(await findConfigPath(undefined, env)).toBe(join(process.cwd(), 'runtime.yaml'));
    await writeFile(join(root, 'other.yaml'), 'version: 1\n');
    expect(await findConfigPath(undefined, { ...env, AUTOMCP_CONFIG: join(root, 'other.yaml') })).toBe(join(root, 'other.yaml'));
    expect(await findConfigPath(join(root, 'xdg', 'automcp'), { ...env, AUTOMCP_CONFIG: join(root, 'other.yaml') })).toBe(
      join(root, 'xdg', 'automcp', 'runtime.yaml'),
    );
    // A path that was given and does not exist is an error, not a silent fall-through to the defaults.
    await expect(resolveConfigPath(join(root, 'missing.yaml'), env)).rejects.toThrow('file not found (pass --config');
  });

  it('the user config folder: an absolute XDG_CONFIG_HOME, else ~/.config; %APPDATA% on Windows', () => {
    expect(userConfigDir({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/x/automcp');
    expect(userConfigDir({ XDG_CONFIG_HOME: 'relative', HOME: '/h' }, 'linux')).toBe('/h/.config/automcp');
    expect(userConfigDir({ APPDATA: 'C:\\Users\\me\\AppData\\Roaming', HOME: '/h' }, 'win32')).toMatch(
      /AppData.Roaming.automcp$/,
    );
  });
});

describe('.env beside runtime.yaml', () => {
  it('feeds ${VAR}; the process environment wins', async () => {
    await writeFile(
      join(root, 'runtime.yaml'),
      'version: 1\nservers:\n  a:\n    command: a\n    env: {ONE: "${ONE}", TWO: "${TWO}", THREE: "${THREE:-fallback}"}\n',
    );
    await writeFile(join(root, '.env'), '# secrets\nONE=from-file\nexport TWO="two words # not a comment"\n');
    const config = await loadConfig({ path: root, env: { TWO: 'from-env' } });
    expect(config.servers[0]?.env).toEqual({ ONE: 'from-file', TWO: 'from-env', THREE: 'fallback' });
    const fromFile = await loadConfig({ path: root, env: {} });
    expect(fromFile.servers[0]?.env?.TWO).toBe('two words # not a comment');
  });

  it('a malformed line is a configuration error naming the file and line', async () => {
    await writeFile(join(root, 'runtime.yaml'), 'version: 1\n');
    await writeFile(join(root, '.env'), 'OK=1\nthis is not an assignment\n');
    await expect(loadConfig({ path: root, env: {} })).rejects.toThrow(/\.env: line 2: expected NAME=value$/);
  });

  it('values survive a write and a read', () => {
    const values = ['plain', 'with space', 'quote " and \\ backslash', 'dollar $HOME ${X}', 'line\nbreak', 'hash # here', ''];
    const text = values.map((value, index) => formatDotenvLine(`V${index}`, value)).join('\n');
    const { values: parsed, problems } = parseDotenv(text);
    expect(problems).toEqual([]);
    expect(values.map((_, index) => parsed.get(`V${index}`))).toEqual(values);
  });
});
