/**
 * Sign-in through the built CLI, as a person does it: `automcp login` with `$BROWSER` set to a test
 * browser that approves at once, then a spawned `automcp serve` that lists and calls the protected
 * server's tool with the stored tokens; a revoked sign-in gives automatic_eval DOWNSTREAM_UNAVAILABLE
 * with the command to run; `status` and `check` say where each sign-in stands; no token ever appears
 * in what the processes write. Needs `npm run build`; the servers run on 127.0.0.1 in this process.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, makeTempStateDir, writeConfigDir, type TempConfig } from './helpers/config.js';
import { errorPayload, evalTool, firstText, runCli, serveGateway } from './helpers/gateway.js';
import { startProtectedServer, type ProtectedServer } from './fixtures/oauth/protectedServer.js';

let server: ProtectedServer;
let config: TempConfig;
let state: { dir: string; cleanup(): void };
let env: Record<string, string>;

beforeAll(async () => {
  server = await startProtectedServer();
  config = await writeConfigDir({
    runtime: { servers: { tracker: { url: server.url, description: 'An issue tracker that asks for sign-in' } } },
    profiles: { default: {} },
  });
  state = makeTempStateDir();
  const browser = join(REPO_ROOT, 'test', 'fixtures', 'oauth', 'browser.mjs');
  env = { XDG_STATE_HOME: state.dir, BROWSER: `${process.execPath} ${browser}` };
});

afterAll(async () => {
  await server.close();
  await config.cleanup();
  state.cleanup();
});

describe('automcp login against a protected remote server', () => {
  it('signs in, serves the tools with the tokens, and says when sign-in is needed again', async () => {
    const before = await runCli(['status', '--config', config.dir], env);
    expect(before.stdout).toMatch(/tracker\s+not signed in/);
    // Before any sign-in, serve neither registers a client nor opens a browser: the call says what to run.
    const early = await serveGateway({ configDir: config.dir, env: { ...env } });
    try {
      const payload = errorPayload(await evalTool(early.client, 'tracker.echo', { text: 'hello' }));
      expect(payload).toMatchObject({
        error: { code: 'DOWNSTREAM_UNAVAILABLE' },
        reason: 'sign-in required',
        command: 'automcp login tracker',
      });
      expect(server.registered).toHaveLength(0);
    } finally {
      await early.close();
    }

    const login = await runCli(['login', 'tracker', '--config', config.dir, '--timeout', '60'], env);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toContain(`Open this URL to sign in to tracker:`);
    expect(login.stderr).toMatch(/http:\/\/127\.0\.0\.1:\d+\/authorize\?\S*code_challenge=/);
    expect(login.stdout).toContain('signed in to tracker; scopes granted: tools:read tools:call');
    const tokenFile = join(state.dir, 'automcp', 'oauth', 'tracker.json');
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);

    const status = await runCli(['status', '--config', config.dir], env);
    expect(status.stdout).toMatch(
      /tracker\s+signed in \(scopes: tools:read tools:call\), token expires at \S+ \(renews itself\)/,
    );
    const check = await runCli(['check', '--config', config.dir], env);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/ok +tracker +1 tools; signed in/);

    // Debug logging: the most a gateway ever writes, and still no token in it.
    const gateway = await serveGateway({ configDir: config.dir, env: { ...env }, extraArgs: ['--verbose'] });
    try {
      expect(firstText(await evalTool(gateway.client, 'tracker.echo', { text: 'hello' }))).toBe('echo: hello');

      server.revokeAll();
      const payload = errorPayload(await evalTool(gateway.client, 'tracker.echo', { text: 'again' }));
      expect(payload).toMatchObject({
        error: { code: 'DOWNSTREAM_UNAVAILABLE' },
        server: 'tracker',
        reason: 'sign-in required',
        command: 'automcp login tracker',
      });
      expect(payload.error.message).toContain('run `automcp login tracker`');
      const logs = gateway.stderr() + login.stderr + login.stdout;
      expect(server.issued.length).toBeGreaterThan(0);
      for (const token of server.issued) expect(logs).not.toContain(token);
    } finally {
      await gateway.close();
    }

    const after = await runCli(['status', '--config', config.dir], env);
    expect(after.stdout).toMatch(/tracker\s+needs sign-in \(the server refused the stored sign-in\): run automcp login tracker/);
    const failing = await runCli(['check', '--config', config.dir], env);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/ERR tracker +NEEDS SIGN-IN: run automcp login tracker/);

    const logout = await runCli(['logout', 'tracker', '--config', config.dir], env);
    expect(logout.stdout).toContain(`signed out of tracker (deleted ${tokenFile})`);
    await expect(stat(tokenFile)).rejects.toThrow();
  });

  it('says in one line what to fix for a server that cannot sign in', async () => {
    const stdio = await writeConfigDir({ runtime: { servers: { local: { command: 'true' } } }, profiles: { default: {} } });
    try {
      const result = await runCli(['login', 'local', '--config', stdio.dir], env);
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain('servers.local: sign-in applies to `url` servers');
      const unknown = await runCli(['login', 'nope', '--config', stdio.dir], env);
      expect(unknown.stderr).toContain('no server named "nope"');
    } finally {
      await stdio.cleanup();
    }
  });
});
