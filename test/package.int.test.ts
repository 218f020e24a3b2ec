/**
 * The package as a user gets it: `npm pack` (prepack builds from clean, in a copy of the repository so
 * the dist/ other tests run is left alone), a global install of the tarball into an empty prefix, then
 * `automcp --version`, `init`, `import --from PATH` on a Claude Desktop config, `install --client
 * claude-desktop --replace` and `uninstall` against a client config under a temporary HOME, and `demo`
 * (whose servers are development dependencies, so the installed package fetches them with npx).
 * Slow (one and a half to two and a half minutes: a tsc build, an npm install, three servers started with npx); the
 * registry must be reachable. Prints the tarball and install sizes.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/config.js';

const run = promisify(execFile);
const FIXTURE = join(REPO_ROOT, 'test', 'clients', 'fixtures', 'claude_desktop_config.json');

let root: string;
let prefix: string;
let automcp: string;
/** The environment of a user with nothing configured yet: HOME and XDG folders inside the temporary root. */
let userEnv: NodeJS.ProcessEnv;

async function cli(args: string[], env: NodeJS.ProcessEnv = userEnv) {
  try {
    const { stdout, stderr } = await run(automcp, args, { cwd: join(root, 'work'), env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

async function duBytes(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sk', dir]);
  return Number(stdout.split('\t')[0]) * 1024;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'automcp-package-'));
  const copy = join(root, 'repo');
  await mkdir(copy);
  for (const entry of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'README.md',
    'src',
    'profiles',
    'demo',
    'scripts',
  ]) {
    await cp(join(REPO_ROOT, entry), join(copy, entry), { recursive: true });
  }
  // prepack's tsc needs the type packages; the copy borrows the repository's node_modules.
  await symlink(join(REPO_ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  prefix = join(root, 'prefix');
  automcp = join(prefix, 'bin', 'automcp');
  await mkdir(join(root, 'work'));
  userEnv = {
    PATH: process.env.PATH,
    HOME: join(root, 'home'),
    XDG_CONFIG_HOME: join(root, 'home', '.config'),
    XDG_STATE_HOME: join(root, 'home', '.local', 'state'),
    // npm's cache stays the real one: the test should not download what is already on this machine.
    npm_config_cache: (await run('npm', ['config', 'get', 'cache'])).stdout.trim(),
  };
}, 30_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the packed tarball, installed globally into an empty prefix', () => {
  it(
    'packs, installs and runs --version, init, import, install --replace, uninstall and demo',
    { timeout: 300_000 },
    async () => {
      const packed = await run('npm', ['pack', '--json', '--pack-destination', root], {
        cwd: join(root, 'repo'),
        timeout: 180_000,
      });
      const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
        filename: string;
        size: number;
        unpackedSize: number;
        files: { path: string }[];
      }[];
      const paths = info!.files.map((file) => file.path);
      // Only what runs: the build (no source maps, no tests, no sources), the dashboard's static files,
      // profiles and the demo.
      expect(paths).toEqual(
        expect.arrayContaining([
          'dist/cli/main.js',
          'dist/ui/static/index.html',
          'demo/runtime.yaml',
          'demo/files/welcome.md',
          'profiles/default.yaml',
        ]),
      );
      expect(
        paths.filter(
          (path) =>
            !/^(dist\/.*\.(js|d\.ts)|dist\/ui\/static\/.*|demo\/.*|profiles\/.*\.yaml|package\.json|README\.md)$/.test(path),
        ),
      ).toEqual([]);

      await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(root, info!.filename)], {
        timeout: 180_000,
        env: { ...process.env, npm_config_cache: userEnv.npm_config_cache },
      });
      const installed = await duBytes(prefix);
      process.stdout.write(
        `package: tarball ${info!.size} B (${(info!.size / 1024).toFixed(0)} kB), ${paths.length} files, unpacked ${info!.unpackedSize} B; ` +
          `global install with dependencies ${installed} B (${(installed / 2 ** 20).toFixed(0)} MiB)\n`,
      );

      const version = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
      expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: `${version.version}\n` });

      // init: a starter in $XDG_CONFIG_HOME/automcp, found by the lookup order from any folder.
      const init = await cli(['init']);
      expect(init.code).toBe(0);
      const configDir = join(root, 'home', '.config', 'automcp');
      expect((await readdir(configDir)).sort()).toEqual(['profiles', 'runtime.yaml']);

      // import --from PATH merges into that runtime.yaml; the token goes to .env.
      const from = join(root, 'downloads', 'claude_desktop_config.json');
      await mkdir(join(root, 'downloads'));
      await writeFile(from, await readFile(FIXTURE));
      const imported = await cli(['import', '--from', from]);
      expect(imported.code).toBe(0);
      expect(imported.stdout).toContain(`Updated ${join(configDir, 'runtime.yaml')}: 3 servers imported.`);
      expect(imported.stderr).toContain('`alwaysAllow` not imported');
      expect(await readFile(join(configDir, 'runtime.yaml'), 'utf8')).not.toContain('ghp_');
      expect((await stat(join(configDir, '.env'))).mode & 0o777).toBe(0o600);

      // install --replace into Claude Desktop's config under the temporary HOME, then uninstall.
      const desktop = join(root, 'home', '.config', 'Claude', 'claude_desktop_config.json');
      await mkdir(join(desktop, '..'), { recursive: true });
      const original = JSON.stringify(
        { mcpServers: { memory: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'] } }, globalShortcut: '' },
        null,
        2,
      );
      await writeFile(desktop, original);
      const install = await cli(['install', '--client', 'claude-desktop', '--replace']);
      expect(install.code).toBe(0);
      expect(install.stdout).toContain('Removed from claude-desktop (now behind automcp): memory');
      const entry = (
        JSON.parse(await readFile(desktop, 'utf8')) as { mcpServers: Record<string, { command: string; args: string[] }> }
      ).mcpServers;
      expect(Object.keys(entry)).toEqual(['automcp']);
      expect(entry.automcp?.args).toEqual([
        join(prefix, 'lib', 'node_modules', 'automcp', 'dist', 'cli', 'main.js'),
        'serve',
        '--config',
        join(configDir, 'runtime.yaml'),
      ]);
      expect(await readFile(join(configDir, 'runtime.yaml'), 'utf8')).toContain('  memory:\n');
      const uninstall = await cli(['uninstall', '--client', 'claude-desktop']);
      expect(uninstall.stdout).toContain('Restored');
      expect(await readFile(desktop, 'utf8')).toBe(original);

      // demo: the real HOME, so npx finds the servers in the user's npm cache.
      const demo = await cli(['demo'], { ...process.env, ...{ npm_config_cache: userEnv.npm_config_cache } });
      expect(demo.stderr).toBe('');
      expect(demo.code).toBe(0);
      expect(demo.stdout).toContain('npx fetches them from npm');
      expect(demo.stdout).toMatch(/up\s+everything\s+\d+ tools/);
      expect(demo.stdout).toContain('Tokens per response');
    },
  );
});
