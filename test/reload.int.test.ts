/**
 * Live reload of a spawned `automcp serve`: a valid edit of runtime.yaml applies without dropping the
 * client while a call is in flight (which finishes on the server it started on), an invalid edit is
 * refused whole with the old configuration still serving and the refusal visible in list_servers,
 * `automcp status` and `automcp reload`, and a removed server leaves no process behind.
 */
import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer, makeTempStateDir, writeConfigDir, type ServerEntry, type TempConfig } from './helpers/config.js';
import {
  errorPayload,
  evalTool,
  firstText,
  isAlive,
  runCli,
  selectTools,
  serveGateway,
  waitFor,
  type ServedGateway,
} from './helpers/gateway.js';
import { postRpc, startHttpServe } from './helpers/http.js';

const ADMIN = { description: 'Operates the gateway.', tools: { allow: ['*', 'automcp.*'] } };

let config: TempConfig | undefined;
let gateway: ServedGateway | undefined;
const cleanups: (() => void)[] = [];

afterEach(async () => {
  await gateway?.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
  await config?.cleanup();
  gateway = undefined;
  config = undefined;
});

async function writeRuntime(file: string, servers: Record<string, ServerEntry>, extra: Record<string, unknown> = {}) {
  await writeFile(file, `${JSON.stringify({ version: 1, profilesDir: './profiles', servers, ...extra }, null, 2)}\n`);
}

function reloads(served: ServedGateway, msg: string): number {
  return served.logLines().filter((line) => typeof line.msg === 'string' && line.msg.startsWith(msg)).length;
}

interface ServerRow {
  name: string;
  state: string;
  pid?: number;
}

async function servers(served: ServedGateway): Promise<ServerRow[]> {
  const result = await evalTool(served.client, 'automcp.list_servers', {});
  return (result.structuredContent as { servers: ServerRow[] }).servers;
}

describe('live reload', () => {
  it('applies a valid edit while a call is in flight, without dropping the client', async () => {
    config = await writeConfigDir({ runtime: { servers: { slow: fixtureServer('slow') } }, profiles: { admin: ADMIN } });
    gateway = await serveGateway({ configDir: config.dir, profile: 'admin' });
    const { client } = gateway;
    await selectTools(client, { query: 'wait sleep milliseconds' });
    // Long enough that the reload below lands while it runs (checked, not assumed).
    const inFlight = evalTool(client, 'slow.sleep', { ms: 8000 });
    let settled = false;
    void inFlight.finally(() => (settled = true));
    await gateway.waitForLog((line) => line.msg === 'server up' && line.server === 'slow');
    // The in-flight call's server changes (a new description restarts it) and a new server is added.
    await writeRuntime(config.runtimeFile, {
      slow: fixtureServer('slow', { description: 'Sleeps on request' }),
      echo: fixtureServer('echo'),
    });
    await gateway.waitForLog((line) => line.msg === 'configuration reloaded', 15_000);
    expect(settled).toBe(false);
    const reloaded = gateway.logLines().find((line) => line.msg === 'configuration reloaded');
    expect(reloaded).toMatchObject({ added: ['echo'], changed: ['slow'], removed: [] });
    // The call started on the old slow server finishes there.
    expect(firstText(await inFlight)).toBe('slept 8000 ms');
    // Same client, new server.
    const found = await selectTools(client, { query: 'echo a message back' });
    expect(found.tools.map((tool) => tool.name)).toContain('echo.echo');
    expect(firstText(await evalTool(client, 'echo.echo', { message: 'live' }))).toBe('live');
    expect(firstText(await evalTool(client, 'slow.sleep', { ms: 1 }))).toBe('slept 1 ms');
  });

  it('refuses an invalid edit whole: the old configuration keeps serving, and the refusal is shown', async () => {
    config = await writeConfigDir({ runtime: { servers: { echo: fixtureServer('echo') } }, profiles: { admin: ADMIN } });
    const state = makeTempStateDir();
    cleanups.push(state.cleanup);
    const env = { XDG_STATE_HOME: state.dir };
    gateway = await serveGateway({ configDir: config.dir, profile: 'admin', env });
    const { client } = gateway;
    expect(firstText(await evalTool(client, 'echo.echo', { message: 'before' }))).toBe('before');
    // A valid new server next to an invalid key: nothing of it may apply.
    await writeRuntime(
      config.runtimeFile,
      { echo: fixtureServer('echo'), other: fixtureServer('echo', { timeoutMs: -5 } as ServerEntry) },
      { selectr: {} },
    );
    const refusal = await gateway.waitForLog(
      (line) => typeof line.msg === 'string' && line.msg.startsWith('reload refused'),
      15_000,
    );
    expect(refusal.msg).toContain(`configuration error in ${config.runtimeFile}`);
    expect(refusal.msg).toContain('unknown key "selectr"');
    expect(refusal.msg).toContain('servers.other.timeoutMs');

    // The same words as `automcp check`.
    const check = await runCli(['check', '--config', config.dir], env);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('unknown key "selectr"');

    expect(firstText(await evalTool(client, 'echo.echo', { message: 'still here' }))).toBe('still here');
    expect(errorPayload(await evalTool(client, 'other.echo', { message: 'x' })).error.code).toBe('TOOL_NOT_FOUND');
    const listed = await evalTool(client, 'automcp.list_servers', {});
    const content = listed.structuredContent as { servers: ServerRow[]; refusedEdit?: { message: string } };
    expect(content.servers.map((server) => server.name)).toEqual(['echo']);
    expect(content.refusedEdit?.message).toContain('unknown key "selectr"');

    const statusText = await waitFor(
      async () => {
        // The status reads the state directory; the file itself is invalid, so no --config here.
        const out = await runCli(['status'], env);
        return out.stdout.includes('refused edit') ? out.stdout : undefined;
      },
      10_000,
      'status to show the refused edit',
    );
    expect(statusText).toContain('unknown key "selectr"');

    // Fixed: the next reload applies and clears the refusal.
    await writeRuntime(config.runtimeFile, { echo: fixtureServer('echo'), other: fixtureServer('echo') });
    const reload = await runCli(['reload', '--config', config.dir], env);
    expect(reload.stdout).toMatch(/applied|unchanged/);
    expect(reload.code).toBe(0);
    await waitFor(
      async () => ((await servers(gateway!)).some((server) => server.name === 'other') ? true : undefined),
      15_000,
      'the fixed edit',
    );
    expect(firstText(await evalTool(client, 'other.echo', { message: 'fixed' }))).toBe('fixed');
  });

  it('stops a removed server and leaves no process behind', async () => {
    config = await writeConfigDir({
      runtime: { servers: { echo: fixtureServer('echo'), slow: fixtureServer('slow') } },
      profiles: { admin: ADMIN },
    });
    gateway = await serveGateway({ configDir: config.dir, profile: 'admin' });
    const before = await waitFor(
      async () => {
        const rows = await servers(gateway!);
        return rows.every((row) => row.state === 'up') ? rows : undefined;
      },
      15_000,
      'both servers up',
    );
    const pid = before.find((row) => row.name === 'slow')?.pid;
    expect(pid).toBeGreaterThan(0);
    const applied = reloads(gateway, 'configuration reloaded');
    await writeRuntime(config.runtimeFile, { echo: fixtureServer('echo') });
    await waitFor(() => (reloads(gateway!, 'configuration reloaded') > applied ? true : undefined), 15_000, 'the reload');
    await waitFor(() => (isAlive(pid!) ? undefined : true), 10_000, 'the removed server process to exit');
    expect((await servers(gateway)).map((row) => row.name)).toEqual(['echo']);
    expect(errorPayload(await evalTool(gateway.client, 'slow.sleep', { ms: 1 })).error.code).toBe('TOOL_NOT_FOUND');
  });

  it('swaps HTTP callers and their tokens for the next request', async () => {
    const tokens = { AUTOMCP_RELOAD_TOKEN_A: 'reload-token-a-0123456789', AUTOMCP_RELOAD_TOKEN_B: 'reload-token-b-0123456789' };
    config = await writeConfigDir({
      runtime: {
        servers: { echo: fixtureServer('echo') },
        callers: { alice: { profile: 'default', tokenEnv: 'AUTOMCP_RELOAD_TOKEN_A' } },
      },
      profiles: { default: { description: 'Everything.' } },
    });
    const served = await startHttpServe({ configDir: config.dir, env: tokens });
    try {
      const list = (token: string) => postRpc({ mcpUrl: served.mcpUrl, token, method: 'tools/list' });
      expect((await list(tokens.AUTOMCP_RELOAD_TOKEN_A)).status).toBe(200);
      expect((await list(tokens.AUTOMCP_RELOAD_TOKEN_B)).status).toBe(401);
      await writeRuntime(
        config.runtimeFile,
        { echo: fixtureServer('echo') },
        { callers: { bob: { profile: 'default', tokenEnv: 'AUTOMCP_RELOAD_TOKEN_B' } } },
      );
      await waitFor(() => served.logLines().find((line) => line.msg === 'configuration reloaded'), 15_000, 'the reload');
      expect((await list(tokens.AUTOMCP_RELOAD_TOKEN_B)).status).toBe(200);
      expect((await list(tokens.AUTOMCP_RELOAD_TOKEN_A)).status).toBe(401);
      // A caller whose profile does not exist is refused whole: bob keeps working.
      await writeRuntime(
        config.runtimeFile,
        { echo: fixtureServer('echo') },
        { callers: { bob: { profile: 'nosuch', tokenEnv: 'AUTOMCP_RELOAD_TOKEN_B' } } },
      );
      await waitFor(
        () => served.logLines().find((line) => typeof line.msg === 'string' && line.msg.startsWith('reload refused')),
        15_000,
        'the refusal',
      );
      expect((await list(tokens.AUTOMCP_RELOAD_TOKEN_B)).status).toBe(200);
    } finally {
      await served.stop();
    }
  });
});
