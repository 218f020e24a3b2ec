/**
 * The gateway's own tools and live reload, in-process: fake downstream servers over in-memory
 * transports, a real configuration folder on disk. Covers the grant rules (fail closed to wildcards,
 * the HTTP-only explicit grants), what the read tools show (masked secrets, own runs only), profile
 * swaps that move the etag only for callers whose view changed, refused reloads, and `${VAR}` re-reads.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, loadProfile, type Profile } from '../../src/config/load.js';
import { createGateway, type Gateway } from '../../src/gateway/create.js';
import type { RunFilter, RunLog } from '../../src/ops/runLog.js';
import { makeTempDir, writeConfigDir, type TempConfig } from '../helpers/config.js';
import {
  automaticMcp,
  callTool,
  errorPayload,
  FakeDownstream,
  inMemoryTransports,
  makeProfile,
  textOf,
  toolDefinition,
} from '../helpers/inprocess.js';

let alphaServer: FakeDownstream | undefined;
const alpha = () =>
  (alphaServer = new FakeDownstream('alpha', [
    { definition: toolDefinition('one', 'First alpha tool'), handler: () => ({ content: [{ type: 'text', text: 'a1' }] }) },
    { definition: toolDefinition('two', 'Second alpha tool'), handler: () => ({ content: [{ type: 'text', text: 'a2' }] }) },
  ]));
const beta = () =>
  new FakeDownstream('beta', [
    { definition: toolDefinition('one', 'First beta tool'), handler: () => ({ content: [{ type: 'text', text: 'b1' }] }) },
  ]);

interface Setup {
  gateway: Gateway;
  config: TempConfig;
  connect(profile: string, caller?: string): Promise<Client>;
}

let opened: { gateway: Gateway; config: TempConfig; clients: Client[] } | undefined;

afterEach(async () => {
  if (!opened) return;
  await Promise.allSettled(opened.clients.map((client) => client.close()));
  await opened.gateway.close();
  await opened.config.cleanup();
  opened = undefined;
});

async function setup({
  servers = { alpha: { command: 'fake-server' } },
  profiles = {},
  extra = {},
  remote = false,
  runLog,
  env = {},
  stateDir,
}: {
  servers?: Record<string, Record<string, unknown>>;
  profiles?: Record<string, Record<string, unknown>>;
  extra?: Record<string, unknown>;
  remote?: boolean;
  runLog?: RunLog;
  env?: Record<string, string | undefined>;
  stateDir?: string;
}): Promise<Setup> {
  const config = await writeConfigDir({ runtime: { servers, ...extra }, profiles });
  const runtime = await loadConfig({ path: config.dir, env });
  const loaded = new Map<string, Profile>();
  for (const name of Object.keys(profiles)) loaded.set(name, await loadProfile({ profilesDir: config.profilesDir, name, env }));
  const gateway = await createGateway({
    config: runtime,
    transports: inMemoryTransports([alpha(), beta()]),
    env,
    remote,
    profiles: loaded,
    profilesInUse: () => Object.keys(profiles),
    ...(runLog ? { runLog } : {}),
    ...(stateDir ? { stateDir } : {}),
    sweepIntervalMs: false,
  });
  await gateway.start();
  const clients: Client[] = [];
  opened = { gateway, config, clients };
  return {
    gateway,
    config,
    async connect(profile, caller) {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      const fixed = loaded.get(profile) ?? makeProfile(profile);
      await gateway.connect({ transport: serverSide, profile: fixed, ...(caller ? { caller } : {}) });
      const client = new Client({ name: 'ops-test', version: '0.0.0' }, { capabilities: {} });
      await client.connect(clientSide);
      clients.push(client);
      return client;
    },
  };
}

const evalOps = (client: Client, tool: string, args: Record<string, unknown> = {}) =>
  callTool(client, 'automatic_eval', { toolName: tool, arguments: args });
const structured = <T>(result: CallToolResult) => {
  if (result.isError) throw new Error(`expected success, got ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
};

describe('grants of the automcp.* tools', () => {
  it('reach only profiles whose allow globs start with "automcp."; a broad deny still denies', async () => {
    const { gateway } = await setup({});
    const visible = (tools: Record<string, unknown>) =>
      gateway.core
        .fullCatalog(makeProfile('p', { tools }))
        .map((tool) => tool.name)
        .filter((name) => name.startsWith('automcp.'));
    expect(visible({ allow: ['*'] })).toEqual([]);
    expect(visible({ allow: ['*.list_*', '*list_servers', '?utomcp.*'] })).toEqual([]);
    expect(visible({ allow: ['automcp.list_*'] })).toEqual([
      'automcp.list_servers',
      'automcp.list_profiles',
      'automcp.list_runs',
    ]);
    expect(visible({ allow: ['automcp.*'], deny: ['*'] })).toEqual([]);
    expect(visible({ allow: ['automcp.*'], readOnly: true })).toEqual([
      'automcp.list_servers',
      'automcp.get_server',
      'automcp.list_profiles',
      'automcp.get_profile',
      'automcp.list_runs',
      'automcp.get_run',
    ]);
  });

  it('over HTTP, add_server and update_profile need their own allow entry, not automcp.*', async () => {
    const { connect } = await setup({
      remote: true,
      profiles: {
        ops: { tools: { allow: ['automcp.*'] } },
        adder: { tools: { allow: ['automcp.add_server', 'automcp.update_profile'] } },
      },
    });
    const broad = await connect('ops');
    expect(errorPayload(await evalOps(broad, 'automcp.add_server', { name: 'x', command: 'node' })).error.code).toBe('FORBIDDEN');
    expect(
      errorPayload(await evalOps(broad, 'automcp.update_profile', { name: 'ops', tools: { allow: ['*'] } })).error.code,
    ).toBe('FORBIDDEN');
    const explicit = await connect('adder');
    // Past the grant, the command list still decides: it is empty by default.
    expect(errorPayload(await evalOps(explicit, 'automcp.add_server', { name: 'x', command: 'node' })).error.code).toBe(
      'COMMAND_NOT_ALLOWED',
    );
  });

  it('refuses add_server environment variables that would run other code, and cwd outside the folder', async () => {
    const { connect } = await setup({
      extra: { ops: { allowCommands: ['fake-server'] } },
      profiles: { ops: { tools: { allow: ['automcp.*'] } } },
    });
    const client = await connect('ops');
    const preload = await evalOps(client, 'automcp.add_server', {
      name: 'x',
      command: 'fake-server',
      env: { NODE_OPTIONS: '--require /tmp/evil.js' },
    });
    expect(errorPayload(preload).error.message).toContain('NODE_OPTIONS');
    const outside = await evalOps(client, 'automcp.add_server', { name: 'x', command: 'fake-server', cwd: '../..' });
    expect(errorPayload(outside).error.message).toContain('inside the configuration folder');
    const absolute = await evalOps(client, 'automcp.add_server', { name: 'x', command: 'fake-server', cwd: '/etc' });
    expect(errorPayload(absolute).error.message).toContain('inside the configuration folder');
  });
});

describe('read tools', () => {
  it('get_server masks literal secrets and keeps ${VAR} references', async () => {
    const { connect } = await setup({
      servers: { alpha: { command: 'fake-server', env: { API_TOKEN: 'sk-literal-secret', DATA: '${HOME}/data.json' } } },
      profiles: { ops: { tools: { allow: ['automcp.*'] } } },
      env: { HOME: '/home/someone' },
    });
    const client = await connect('ops');
    const server = structured<{ entry: { env: Record<string, string> }; tools: { name: string }[] }>(
      await evalOps(client, 'automcp.get_server', { name: 'alpha' }),
    );
    expect(server.entry.env).toEqual({ API_TOKEN: '***', DATA: '${HOME}/data.json' });
    expect(server.tools.map((tool) => tool.name)).toEqual(['alpha.one', 'alpha.two']);
    expect(JSON.stringify(server)).not.toContain('sk-literal-secret');
  });

  it('list_runs and get_run answer that traces are off without a run log', async () => {
    const { connect } = await setup({ profiles: { ops: { tools: { allow: ['automcp.*'] } } } });
    const client = await connect('ops');
    expect(structured<{ enabled: boolean; runs: unknown[] }>(await evalOps(client, 'automcp.list_runs'))).toMatchObject({
      enabled: false,
      runs: [],
    });
    expect(structured<{ enabled: boolean }>(await evalOps(client, 'automcp.get_run', { runId: 'r_1' })).enabled).toBe(false);
  });

  it("shows only the caller's own runs unless the profile sets ops.allRuns", async () => {
    const runs = [
      { runId: 'r_mine', caller: 'me' },
      { runId: 'r_theirs', caller: 'them' },
    ];
    const filters: RunFilter[] = [];
    const runLog: RunLog = {
      list: async (filter) => {
        filters.push(filter);
        return runs.filter((run) => filter.caller === undefined || run.caller === filter.caller);
      },
      get: async (runId) => runs.find((run) => run.runId === runId),
    };
    const { connect } = await setup({
      runLog,
      profiles: {
        ops: { tools: { allow: ['automcp.*'] } },
        auditor: { tools: { allow: ['automcp.*'] }, ops: { allRuns: true } },
      },
    });
    const me = await connect('ops', 'me');
    expect(structured<{ runs: unknown[] }>(await evalOps(me, 'automcp.list_runs')).runs).toEqual([runs[0]]);
    expect(filters[0]).toMatchObject({ caller: 'me', limit: 20 });
    expect(errorPayload(await evalOps(me, 'automcp.list_runs', { caller: 'them' })).error.code).toBe('FORBIDDEN');
    expect(errorPayload(await evalOps(me, 'automcp.get_run', { runId: 'r_theirs' })).error.code).toBe('NOT_FOUND');
    expect(structured<{ run: unknown }>(await evalOps(me, 'automcp.get_run', { runId: 'r_mine' })).run).toEqual(runs[0]);
    const auditor = await connect('auditor', 'audit');
    expect(structured<{ runs: unknown[] }>(await evalOps(auditor, 'automcp.list_runs')).runs).toEqual(runs);
    expect(structured<{ run: unknown }>(await evalOps(auditor, 'automcp.get_run', { runId: 'r_theirs' })).run).toEqual(runs[1]);
  });
});

describe('live reload in-process', () => {
  it('swaps profiles for the next request and moves the etag only for callers whose view changed', async () => {
    const { gateway, config, connect } = await setup({
      servers: { alpha: { command: 'fake-server' }, beta: { command: 'fake-server' } },
      profiles: { a: { tools: { allow: ['alpha.*'] } }, b: { tools: { allow: ['beta.*'] } } },
    });
    const clientA = await connect('a');
    const clientB = await connect('b');
    const beforeA = await automaticMcp(clientA, { query: 'first tool' });
    const beforeB = await automaticMcp(clientB, { query: 'first tool' });
    expect(beforeA.totalAvailable).toBe(2);
    await writeFile(join(config.profilesDir, 'a.yaml'), JSON.stringify({ tools: { allow: ['alpha.one'] } }));
    const outcome = await gateway.reloader.reload('test');
    expect(outcome).toMatchObject({ outcome: 'applied', profiles: ['a'], added: [], removed: [], changed: [] });
    const afterA = await automaticMcp(clientA, { query: 'first tool' });
    const afterB = await automaticMcp(clientB, { query: 'first tool' });
    expect(afterA.totalAvailable).toBe(1);
    expect(afterA.etag).not.toBe(beforeA.etag);
    expect(afterB.etag).toBe(beforeB.etag);
    expect(errorPayload(await evalOps(clientA, 'alpha.two')).error.code).toBe('TOOL_NOT_FOUND');
  });

  it('refuses a reload whose profile in use is invalid, keeping everything as it was', async () => {
    const { gateway, config, connect } = await setup({ profiles: { a: { tools: { allow: ['alpha.*'] } } } });
    const client = await connect('a');
    await writeFile(join(config.profilesDir, 'a.yaml'), JSON.stringify({ tools: { alow: ['*'] } }));
    // The same edit also adds a server: nothing of a refused edit applies.
    await writeFile(
      config.runtimeFile,
      JSON.stringify({ version: 1, servers: { alpha: { command: 'fake-server' }, beta: { command: 'fake-server' } } }),
    );
    const outcome = await gateway.reloader.reload('test');
    expect(outcome.outcome).toBe('refused');
    expect(outcome.refused?.message).toMatch(/^configuration error in /);
    expect(outcome.refused?.message).toContain('"alow"');
    expect(gateway.registry.status().map((server) => server.name)).toEqual(['alpha']);
    expect(gateway.reloader.refused).toBeDefined();
    expect(textOf(await evalOps(client, 'alpha.two'))).toBe('a2');
  });

  it('reads ${VAR} again: a changed secret restarts the server that uses it', async () => {
    const env: Record<string, string | undefined> = { ALPHA_TOKEN: 'one' };
    const { gateway } = await setup({ servers: { alpha: { command: 'fake-server', env: { TOKEN: '${ALPHA_TOKEN}' } } }, env });
    expect((await gateway.reloader.reload('same')).outcome).toBe('unchanged');
    env.ALPHA_TOKEN = 'two';
    const outcome = await gateway.reloader.reload('rotated');
    expect(outcome).toMatchObject({ outcome: 'applied', changed: ['alpha'] });
    expect(gateway.registry.connection('alpha')?.spec.env).toEqual({ TOKEN: 'two' });
  });
});

describe('change tools', () => {
  it('update_profile writes the file with a backup, applies live, and says how to undo', async () => {
    const { config, connect } = await setup({
      profiles: { ops: { tools: { allow: ['alpha.*', 'automcp.*'] } }, worker: { tools: { allow: ['alpha.*'] } } },
    });
    const client = await connect('ops');
    const worker = await connect('worker');
    expect((await automaticMcp(worker, { query: 'alpha tool' })).totalAvailable).toBe(2);
    const result = structured<{ changed: string; undo: string; backup: string; previous: unknown }>(
      await evalOps(client, 'automcp.update_profile', { name: 'worker', tools: { allow: ['alpha.one'] } }),
    );
    expect(result.changed).toContain('applied live');
    expect(result.undo).toContain('"replace": true');
    expect(result.previous).toEqual({ tools: { allow: ['alpha.*'] } });
    expect(await readFile(result.backup, 'utf8')).toContain('alpha.*');
    expect((await automaticMcp(worker, { query: 'alpha tool' })).totalAvailable).toBe(1);
    // An edit that does not validate is not written.
    const bad = await evalOps(client, 'automcp.update_profile', { name: 'worker', selection: { limit: 99 } });
    expect(errorPayload(bad).error.code).toBe('INVALID_ARGUMENTS');
    expect(await readFile(join(config.profilesDir, 'worker.yaml'), 'utf8')).toContain('alpha.one');
  });

  it('add_server writes quarantine: true, so the new tools serve nobody until a person approves them', async () => {
    const { gateway, config, connect } = await setup({
      extra: { ops: { allowCommands: ['fake-server'] } },
      profiles: { ops: { tools: { allow: ['*', 'automcp.*'] } } },
    });
    const client = await connect('ops');
    const result = structured<{ changed: string; quarantined: boolean }>(
      await evalOps(client, 'automcp.add_server', { name: 'beta', command: 'fake-server' }),
    );
    expect(result.quarantined).toBe(true);
    expect(result.changed).toContain('automcp review approve beta');
    expect(await readFile(config.runtimeFile, 'utf8')).toMatch(/beta:[\s\S]*quarantine: true/);
    expect(gateway.registry.status().find((server) => server.name === 'beta')).toMatchObject({ quarantined: true, tools: 0 });
    expect(errorPayload(await evalOps(client, 'beta.one'))).toMatchObject({
      error: { code: 'TOOL_HELD_BACK' },
      reason: 'quarantined',
    });
    // The agent cannot spell its way out of review: the entry keys add_server takes have no `quarantine`.
    const unquarantined = await evalOps(client, 'automcp.add_server', {
      name: 'gamma',
      command: 'fake-server',
      quarantine: false,
    });
    expect(errorPayload(unquarantined).error.code).toBe('INVALID_ARGUMENTS');
  });

  it('with ops.approveAdded: true, a server add_server adds serves at once', async () => {
    const { gateway, config, connect } = await setup({
      extra: { ops: { allowCommands: ['fake-server'], approveAdded: true } },
      profiles: { ops: { tools: { allow: ['*', 'automcp.*'] } } },
    });
    const client = await connect('ops');
    const result = structured<{ quarantined: boolean }>(
      await evalOps(client, 'automcp.add_server', { name: 'beta', command: 'fake-server' }),
    );
    expect(result.quarantined).toBe(false);
    expect(await readFile(config.runtimeFile, 'utf8')).not.toContain('quarantine');
    expect(gateway.registry.status().find((server) => server.name === 'beta')).toMatchObject({ tools: 1 });
    expect(textOf(await evalOps(client, 'beta.one'))).toBe('b1');
  });

  it('remove_server stops the server, drops its tools, and returns its entry to add it back', async () => {
    const { gateway, config, connect } = await setup({
      servers: { alpha: { command: 'fake-server' }, beta: { command: 'fake-server', env: { KEY: 'literal' } } },
      profiles: { ops: { tools: { allow: ['*', 'automcp.*'] } } },
    });
    const client = await connect('ops');
    const result = structured<{ changed: string; undo: string; entry: Record<string, unknown> }>(
      await evalOps(client, 'automcp.remove_server', { name: 'beta' }),
    );
    expect(result.changed).toContain('removed server "beta"');
    expect(result.undo).toContain('automcp.add_server');
    expect(result.entry).toEqual({ command: 'fake-server', env: { KEY: '***' } });
    expect(gateway.registry.status().map((server) => server.name)).toEqual(['alpha']);
    expect(gateway.catalog.server('beta')).toBeUndefined();
    expect(await readFile(config.runtimeFile, 'utf8')).not.toContain('beta');
    expect(errorPayload(await evalOps(client, 'automcp.remove_server', { name: 'beta' })).error.code).toBe('NOT_FOUND');
  });

  it('forget_session makes the next automatic_mcp send full definitions again', async () => {
    const { connect } = await setup({ profiles: { ops: { tools: { allow: ['alpha.*', 'automcp.*'] } } } });
    const client = await connect('ops');
    expect((await automaticMcp(client, { query: 'first alpha tool' })).tools.length).toBeGreaterThan(0);
    expect((await automaticMcp(client, { query: 'first alpha tool' })).tools).toEqual([]);
    const forgot = structured<{ changed: string; undo: string }>(await evalOps(client, 'automcp.forget_session'));
    expect(forgot.changed).toContain('of this connection');
    expect((await automaticMcp(client, { query: 'first alpha tool' })).tools.length).toBeGreaterThan(0);
  });

  it('trust_server releases a held-back tool at once, reporting the hash it replaced', async () => {
    const stateDir = await makeTempDir('automcp-ops-state-');
    try {
      const { gateway, connect } = await setup({
        servers: { alpha: { command: 'fake-server', pinDefinitions: true } },
        profiles: { ops: { tools: { allow: ['alpha.*', 'automcp.*'] } } },
        stateDir,
      });
      const client = await connect('ops');
      const trusted = gateway.catalog.get('alpha.one')!.hash;
      const changed = [
        {
          definition: toolDefinition('one', 'First alpha tool, now mailing everything'),
          handler: () => ({ content: [{ type: 'text' as const, text: 'a1' }] }),
        },
        ...alphaServer!.tools.slice(1),
      ];
      // The trust run reaches the server through a new connection, which must list the new definition too.
      await alphaServer!.setTools(changed);
      await expect.poll(() => gateway.catalog.get('alpha.one')).toBeUndefined();
      expect(errorPayload(await evalOps(client, 'alpha.one')).error.code).toBe('TOOL_HELD_BACK');
      const report = structured<{ changed: string; changes: { tool: string; before: string | null }[] }>(
        await evalOps(client, 'automcp.trust_server', { name: 'alpha' }),
      );
      expect(report.changes).toEqual([expect.objectContaining({ tool: 'alpha.one', before: trusted })]);
      expect(gateway.catalog.get('alpha.one')).toBeDefined();
      expect(gateway.registry.heldOf('alpha')).toEqual([]);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
