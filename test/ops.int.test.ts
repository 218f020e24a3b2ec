/**
 * The gateway's own tools, as an agent meets them through `automcp serve` and the two upstream tools
 * only: find them with automatic_mcp, see the servers, restart one, add a permitted server — held in
 * quarantine until a person runs `automcp review approve` — and use its tool in the same conversation;
 * a command outside ops.allowCommands is refused; a profile
 * without the grant, or with only a wildcard, never sees or reaches `automcp.*` (stdio and HTTP).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeTempDir, makeTempStateDir, writeConfigDir, type TempConfig } from './helpers/config.js';
import {
  errorPayload,
  evalTool,
  firstText,
  isAlive,
  runCli,
  selectTools,
  serveGateway,
  waitFor,
  type McpOutput,
  type ServedGateway,
} from './helpers/gateway.js';
import { connectHttpClient, startHttpServe } from './helpers/http.js';

const TOKEN = 'ops-test-token-wildcard-0123456789';

let config: TempConfig;
let tmp: string;
/** While this file exists the `flaky` server refuses to start (the crash fixture's CRASH_MARKER). */
let marker: string;

function names(output: McpOutput): string[] {
  return [...output.tools.map((tool) => tool.name), ...output.unchanged.map((tool) => tool.name)];
}

interface ServerRow {
  name: string;
  state: string;
  pid?: number;
  tools: number;
}

beforeAll(async () => {
  tmp = await makeTempDir('automcp-ops-');
  marker = join(tmp, 'broken');
  await writeFile(marker, 'the flaky server is broken until this file is gone\n');
  config = await writeConfigDir({
    runtime: {
      servers: {
        echo: fixtureServer('echo', { description: 'Echo and add numbers' }),
        flaky: fixtureServer('crash', { env: { CRASH_MARKER: marker } }),
      },
      ops: { allowCommands: [process.execPath] },
      callers: { wild: { profile: 'wildcard', tokenEnv: 'AUTOMCP_OPS_TEST_TOKEN' } },
    },
    profiles: {
      admin: { description: 'Operates the gateway.', tools: { allow: ['*', 'automcp.*'] } },
      reader: { description: 'Reads gateway state.', tools: { allow: ['*', 'automcp.list_*', 'automcp.get_*'] } },
      wildcard: { description: 'Everything a wildcard grants.', tools: { allow: ['*'] } },
    },
  });
});

afterAll(async () => {
  await config?.cleanup();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('an agent operating the gateway through automatic_mcp and automatic_eval', () => {
  it('finds the ops tools, sees why a server is down, restarts it, adds a permitted server and uses its tool once approved', async () => {
    let gateway: ServedGateway | undefined;
    // One state directory for the gateway and the person's `automcp review approve`.
    const state = makeTempStateDir();
    const stateEnv = { XDG_STATE_HOME: state.dir };
    try {
      gateway = await serveGateway({ configDir: config.dir, profile: 'admin', env: stateEnv });
      const { client } = gateway;
      const upstream = await client.listTools();
      expect(upstream.tools.map((tool) => tool.name).sort()).toEqual(['automatic_eval', 'automatic_mcp']);

      const found = await selectTools(client, { query: 'list the gateway servers and their state' });
      expect(names(found)).toContain('automcp.list_servers');
      const definition = found.tools.find((tool) => tool.name === 'automcp.list_servers');
      expect(definition?.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true });
      expect(definition?.outputSchema).toBeDefined();

      // Boot may still be running under load: wait until both servers have settled one way or the other.
      const servers = await waitFor(
        async () => {
          const listed = await evalTool(client, 'automcp.list_servers', {});
          expect(listed.isError).toBeFalsy();
          const rows = (listed.structuredContent as { servers: (ServerRow & { lastError?: string })[] }).servers;
          const settled = rows.every((row) => ['up', 'failed', 'down'].includes(row.state));
          return settled ? rows : undefined;
        },
        30_000,
        'both servers to start or fail',
      );
      const echo = servers.find((server) => server.name === 'echo');
      expect(echo).toMatchObject({ state: 'up', tools: 4 });
      const pidBefore = echo?.pid;
      expect(pidBefore).toBeGreaterThan(0);
      // Why flaky is down: it failed to start, and the last error says so.
      const flaky = servers.find((server) => server.name === 'flaky');
      expect(['failed', 'down']).toContain(flaky?.state);
      expect(flaky?.lastError).toBeTruthy();
      expect(flaky?.pid).toBeUndefined();

      // The cause goes away (a person fixes it); the agent restarts the server in the same conversation.
      await rm(marker);
      const restartFound = await selectTools(client, { query: 'restart a server' });
      expect(names(restartFound)).toContain('automcp.restart_server');
      const revived = await evalTool(client, 'automcp.restart_server', { name: 'flaky' });
      expect(revived.isError, firstText(revived)).toBeFalsy();
      const revive = revived.structuredContent as { changed: string; undo: string; status: ServerRow };
      expect(revive.changed).toContain('restarted server "flaky"');
      expect(revive.undo).toBeTruthy();
      expect(revive.status).toMatchObject({ state: 'up', tools: 3 });

      // A server that is up restarts as a new process, and the old one is gone.
      const restarted = await evalTool(client, 'automcp.restart_server', { name: 'echo' });
      const restart = restarted.structuredContent as { changed: string; status: ServerRow };
      expect(restart.status.state).toBe('up');
      expect(restart.status.pid).not.toBe(pidBefore);
      await waitFor(() => (isAlive(pidBefore!) ? undefined : true), 10_000, 'the old echo process to exit');

      const added = await evalTool(client, 'automcp.add_server', {
        name: 'echo2',
        ...fixtureServer('echo', { description: 'A second echo server for parrots' }),
      });
      expect(added.isError, firstText(added)).toBeFalsy();
      const add = added.structuredContent as {
        changed: string;
        undo: string;
        status: ServerRow;
        backup: string;
        quarantined: boolean;
      };
      expect(add.changed).toContain('applied live');
      expect(add.changed).toContain('automcp review approve echo2');
      expect(add.undo).toContain('automcp.remove_server');
      expect(add.quarantined).toBe(true);
      // Started and listed, but none of its tools serves anyone yet.
      expect(add.status).toMatchObject({ name: 'echo2', state: 'up', tools: 0, heldBack: 4, quarantined: true });
      const written = await readFile(config.runtimeFile, 'utf8');
      expect(written).toContain('echo2');
      expect(written).toMatch(/quarantine: true/);
      expect(await readFile(add.backup, 'utf8')).not.toContain('echo2');

      // Quarantined: not selectable, and refused with the reason when named.
      const early = await selectTools(client, { query: 'echo a message back with the echo2 server', limit: 10 });
      expect(names(early).filter((name) => name.startsWith('echo2.'))).toEqual([]);
      const refused = errorPayload(await evalTool(client, 'echo2.echo', { message: 'too early' }));
      expect(refused.error.code).toBe('TOOL_HELD_BACK');
      expect(refused).toMatchObject({ server: 'echo2', reason: 'quarantined' });
      const shown = await evalTool(client, 'automcp.get_server', { name: 'echo2' });
      const detail = shown.structuredContent as { heldBack: { name: string; reason: string }[]; review?: string };
      expect(detail.heldBack.map((held) => [held.name, held.reason])).toContainEqual(['echo2.echo', 'quarantined']);
      expect(detail.review).toContain('automcp review approve echo2');

      // The agent cannot release it: trust_server records hashes, not a person's approval.
      const trusted = await evalTool(client, 'automcp.trust_server', { name: 'echo2' });
      expect(trusted.isError, firstText(trusted)).toBeFalsy();
      expect(errorPayload(await evalTool(client, 'echo2.echo', { message: 'still early' })).error.code).toBe('TOOL_HELD_BACK');

      // A person looks at it, then approves it; the running gateway releases it on its next sweep.
      const reviewed = await runCli(['review', 'echo2', '--config', config.dir], stateEnv);
      expect(reviewed.code, reviewed.stderr).toBe(0);
      expect(reviewed.stdout).toContain('server echo2: quarantined');
      expect(reviewed.stdout).toContain('echo2.echo');
      const approved = await runCli(['review', 'approve', 'echo2', '--config', config.dir], stateEnv);
      expect(approved.code, approved.stderr).toBe(0);
      expect(approved.stdout).toContain('released 4 held-back tools');
      await waitFor(
        async () => {
          const rows = (await evalTool(client, 'automcp.list_servers', {})).structuredContent as {
            servers: (ServerRow & { quarantined?: boolean })[];
          };
          const row = rows.servers.find((server) => server.name === 'echo2');
          return row?.tools === 4 && row.quarantined === undefined ? row : undefined;
        },
        10_000,
        'the gateway to release echo2 after approval',
      );

      // The same conversation selects and runs the new server's tool.
      // The ranker reads a server's name, not its description (docs/benchmarks.md, "Ranker changes").
      const parrots = await selectTools(client, { query: 'echo a message back with the echo2 server', limit: 10 });
      expect(names(parrots)).toContain('echo2.echo');
      const echoed = await evalTool(client, 'echo2.echo', { message: 'hello from echo2' });
      expect(firstText(echoed)).toBe('hello from echo2');
      expect(
        gateway
          .logLines()
          .some(
            (line) =>
              line.msg === 'ops change' && line.ops === 'add_server' && line.caller === 'admin' && typeof line.runId === 'string',
          ),
      ).toBe(true);
    } finally {
      await gateway?.close();
      state.cleanup();
    }
  });

  it('refuses to add a server whose command is not in ops.allowCommands, and writes nothing', async () => {
    let gateway: ServedGateway | undefined;
    try {
      gateway = await serveGateway({ configDir: config.dir, profile: 'admin' });
      const before = await readFile(config.runtimeFile, 'utf8');
      const refused = await evalTool(gateway.client, 'automcp.add_server', {
        name: 'shell',
        command: '/bin/sh',
        args: ['-c', 'echo pwned'],
      });
      const payload = errorPayload(refused);
      expect(payload.error.code).toBe('COMMAND_NOT_ALLOWED');
      expect(payload.error.message).toContain('ops.allowCommands');
      expect(await readFile(config.runtimeFile, 'utf8')).toBe(before);
    } finally {
      await gateway?.close();
    }
  });

  it('a profile without the grant gets TOOL_NOT_FOUND for add_server, and reads only what it names', async () => {
    let gateway: ServedGateway | undefined;
    try {
      gateway = await serveGateway({ configDir: config.dir, profile: 'reader' });
      const refused = await evalTool(gateway.client, 'automcp.add_server', { name: 'other', ...fixtureServer('echo') });
      expect(errorPayload(refused).error.code).toBe('TOOL_NOT_FOUND');
      const listed = await evalTool(gateway.client, 'automcp.list_servers', {});
      expect(listed.isError).toBeFalsy();
    } finally {
      await gateway?.close();
    }
  });

  it('a wildcard profile never sees or reaches automcp.* over stdio', async () => {
    let gateway: ServedGateway | undefined;
    try {
      gateway = await serveGateway({ configDir: config.dir, profile: 'wildcard' });
      const output = await selectTools(gateway.client, {
        query: 'list servers restart server add server profiles runs trust automcp',
        limit: 50,
      });
      expect(names(output).filter((name) => name.startsWith('automcp.'))).toEqual([]);
      expect(names(output).length).toBeGreaterThan(0);
      for (const tool of ['automcp.list_servers', 'automcp.add_server']) {
        expect(errorPayload(await evalTool(gateway.client, tool, {})).error.code).toBe('TOOL_NOT_FOUND');
      }
    } finally {
      await gateway?.close();
    }
  });

  it('a wildcard profile never sees or reaches automcp.* over HTTP', async () => {
    const served = await startHttpServe({ configDir: config.dir, env: { AUTOMCP_OPS_TEST_TOKEN: TOKEN } });
    try {
      const client = await connectHttpClient(served.mcpUrl, TOKEN);
      try {
        const output = await selectTools(client, {
          query: 'list servers restart server add server profiles runs trust automcp',
          limit: 50,
        });
        expect(names(output).filter((name) => name.startsWith('automcp.'))).toEqual([]);
        expect(names(output).length).toBeGreaterThan(0);
        for (const tool of ['automcp.list_servers', 'automcp.add_server']) {
          expect(errorPayload(await evalTool(client, tool, {})).error.code).toBe('TOOL_NOT_FOUND');
        }
      } finally {
        await client.close();
      }
    } finally {
      await served.stop();
    }
  });
});
