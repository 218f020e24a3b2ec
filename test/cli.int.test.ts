/**
 * The one-shot commands, run as a person would: `check`, `select`, `tools` and `demo` from the built
 * CLI, with their exit codes and what they print. Servers are fixture servers and the real npm ones.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeTempStateDir, REPO_ROOT, writeConfigDir, type TempConfig } from './helpers/config.js';
import { runCli } from './helpers/gateway.js';

let good: TempConfig;
let broken: TempConfig;

beforeAll(async () => {
  good = await writeConfigDir({
    runtime: { servers: { echo: fixtureServer('echo', { description: 'Echoes messages and adds numbers' }) } },
    profiles: {
      default: { description: 'Everything.' },
      adder: { description: 'Adds only.', tools: { allow: ['echo.add'] } },
    },
  });
  broken = await writeConfigDir({
    runtime: {
      servers: {
        echo: fixtureServer('echo'),
        missing: { command: '/nonexistent/automcp-missing-server' },
      },
    },
    profiles: { default: {} },
  });
  await writeFile(join(broken.profilesDir, 'typo.yaml'), 'tools:\n  alow: ["*"]\n');
});

afterAll(async () => {
  await good?.cleanup();
  await broken?.cleanup();
});

describe('automcp check', () => {
  it('reports each server and profile and exits 0 when all are fine', async () => {
    const result = await runCli(['check', '--config', good.dir, '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      servers: { name: string; state: string; tools: number }[];
      profiles: { name: string; ok: boolean }[];
      sessions: { store: string; ok: boolean; detail: string };
    };
    expect(report.servers).toEqual([expect.objectContaining({ name: 'echo', state: 'up', tools: 4 })]);
    expect(report.profiles.map((profile) => [profile.name, profile.ok])).toEqual([
      ['adder', true],
      ['default', true],
    ]);
    expect(report.sessions).toMatchObject({ store: 'memory', ok: true, detail: expect.stringContaining('in process') });
  });

  it('names the server that failed and the invalid profile, and exits 1', async () => {
    const result = await runCli(['check', '--config', broken.runtimeFile]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/ok\s+echo\s+4 tools/);
    expect(result.stdout).toMatch(/ERR missing\s+FAILED: \S/);
    expect(result.stdout).toMatch(/ERR profile typo: .*tools: unknown key "alow"/);
  });

  it('stops on a configuration error naming the file and the key', async () => {
    const bad = await writeConfigDir({ runtime: { servers: { echo: { command: 'x', argz: [] } as never } } });
    try {
      const result = await runCli(['check', '--config', bad.dir]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(bad.runtimeFile);
      expect(result.stderr).toContain('servers.echo: unknown key "argz"');
      expect(result.stdout).toBe('');
    } finally {
      await bad.cleanup();
    }
  });
});

describe('automcp select and tools', () => {
  it('select --json prints what automatic_mcp returns', async () => {
    const result = await runCli(['select', '--config', good.dir, '--json', '--limit', '2', 'echo', 'a', 'message']);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { mode: string; tools: { name: string; hash: string }[]; totalAvailable: number };
    expect(output.mode).toBe('lexical');
    expect(output.tools[0]?.name).toBe('echo.echo');
    expect(output.tools.length).toBeLessThanOrEqual(2);
    expect(output.totalAvailable).toBe(4);
  });

  it('select for a person shows the ranking and the token figures', async () => {
    const result = await runCli(['select', '--config', good.dir, 'add two numbers']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\s+1\. echo\.add /m);
    expect(result.stdout).toMatch(/response \d+ tokens · full catalog \d+ tokens/);
  });

  it('tools shows only what the profile allows', async () => {
    const result = await runCli(['tools', '--config', good.dir, '--profile', 'adder', '--json']);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { name: string }[]).map((tool) => tool.name)).toEqual(['echo.add']);
  });

  it('rejects an unknown profile before starting anything', async () => {
    const result = await runCli(['tools', '--config', good.dir, '--profile', 'nobody']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/profile "nobody" does not exist \(known profiles: adder, default\)/);
  });
});

describe('automcp demo', () => {
  it('runs the scripted session against the real servers of the bundled runtime.yaml', { timeout: 90_000 }, async () => {
    const result = await runCli(['demo']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/up\s+filesystem\s+14 tools/);
    expect(result.stdout).toMatch(/up\s+memory\s+9 tools/);
    expect(result.stdout).toMatch(/up\s+everything\s+17 tools/);
    // The repeat comes back names-only; the create-then-read and the bad call behave as shown.
    const again = result.stdout.slice(result.stdout.indexOf('(task 1 again)'));
    expect(again).toMatch(/unchanged\s+memory\./);
    expect(again.slice(0, again.indexOf('▶ automatic_eval'))).not.toMatch(/^\s+full\s{2,}\S/m);
    expect(result.stdout).toMatch(/automatic_eval memory\.open_nodes[\s\S]*"Ada Lovelace"/);
    expect(result.stdout).toContain('INVALID_ARGUMENTS');
    expect(result.stdout).toMatch(/inputSchema returned \(\d+ tokens\)/);
    const [, catalog] = /full catalog\s+(\d+)/.exec(result.stdout) ?? [];
    expect(Number(catalog)).toBeGreaterThan(1000);
  });
});

describe('errors the user can fix: one line, exit 1; our bugs: a stack', () => {
  const oneLine = (stderr: string) => {
    expect(stderr.split('\n').filter((line) => line !== '')).toHaveLength(1);
    expect(stderr).not.toMatch(/\n\s+at /);
  };

  it('an empty task, a bad --session and an over-long task name what to fix', async () => {
    const empty = await runCli(['select', '--config', good.dir, '  ']);
    expect(empty.code).toBe(1);
    oneLine(empty.stderr);
    expect(empty.stderr).toMatch(/^automcp: the task is empty: say what you want to do/);
    const session = await runCli(['select', '--config', good.dir, '--session', 'bad id!', 'echo']);
    expect(session.code).toBe(1);
    oneLine(session.stderr);
    expect(session.stderr).toContain('automcp: --session: expected 1–128 characters of [A-Za-z0-9._:-]');
    const long = await runCli(['select', '--config', good.dir, 'a'.repeat(4001)]);
    expect(long.code).toBe(1);
    oneLine(long.stderr);
    expect(long.stderr).toContain('automcp: the task: at most 4000 characters (got 4001)');
  });

  it('--verbose adds the stack to such an error', async () => {
    const result = await runCli(['select', '--config', good.dir, '--verbose', '  ']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^automcp: the task is empty/);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it('refuses --port and --host without --http', async () => {
    const port = await runCli(['serve', '--config', good.dir, '--port', '9999']);
    expect(port.code).toBe(1);
    oneLine(port.stderr);
    expect(port.stderr).toContain('automcp: --port applies only to the HTTP server: add --http');
    const both = await runCli(['serve', '--config', good.dir, '--host', '0.0.0.0', '--port', '9999']);
    expect(both.code).toBe(1);
    oneLine(both.stderr);
    expect(both.stderr).toContain('--host and --port apply only to the HTTP server');
  });

  it('a busy port says so and points at --port', async () => {
    const busy = createServer();
    await new Promise<void>((listening) => busy.listen(0, '127.0.0.1', listening));
    const { port } = busy.address() as AddressInfo;
    const state = makeTempStateDir();
    try {
      const result = await runCli(['serve', '--config', good.dir, '--http', '--port', String(port)], {
        XDG_STATE_HOME: state.dir,
      });
      expect(result.code).toBe(1);
      // The gateway logs JSON lines on stderr; the failure is the last line, alone and without a stack.
      const last = result.stderr.trimEnd().split('\n').at(-1);
      expect(last).toBe(
        `automcp: cannot listen on 127.0.0.1 port ${port}: it is already in use; stop what uses it, or choose another with --port (0: any free port)`,
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      busy.close();
      state.cleanup();
    }
  });

  it('an internal error still shows its stack', async () => {
    const preload = join(REPO_ROOT, 'test', 'fixtures', 'preload', 'json-bug.mjs');
    const result = await runCli(['status', '--config', good.dir, '--json'], { NODE_OPTIONS: `--import ${preload}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('automcp: internal error');
    expect(result.stderr).toContain('TypeError: injected bug: JSON.stringify is broken');
    expect(result.stderr).toMatch(/\n\s+at /);
  });
});
