/**
 * `automcp serve --http` as a real process in front of the real everything, memory and filesystem
 * servers, spoken to over real HTTP: tokens and callers, per-caller sessions, profiles as permissions,
 * stateless requests, MCP session lifecycle, health, metrics and 50 concurrent clients.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadReport } from '../../src/bench/load.js';
import {
  CLI_PATH,
  REPO_ROOT,
  everythingServer,
  filesystemServer,
  makeTempDir,
  memoryServer,
  writeConfigDir,
  type TempConfig,
} from '../helpers/config.js';
import { errorPayload, evalTool, firstText, selectTools, waitFor, type McpOutput } from '../helpers/gateway.js';
import { connectHttpClient, metricValue, postRpc, startHttpServe, type HttpServed } from '../helpers/http.js';
import { runServeToExit } from '../helpers/rawServe.js';

const TOKEN_A = 'alpha-secret-token-1111';
const TOKEN_A_NEXT = 'alpha-secret-token-2222';
const TOKEN_B = 'beta-secret-token-3333';
const TOKEN_OPS = 'ops-secret-token-4444';
const execFileAsync = promisify(execFile);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('serve --http with callers', () => {
  let config: TempConfig;
  let served: HttpServed;
  const clients: Client[] = [];
  const client = async (token: string) => {
    const connected = await connectHttpClient(served.mcpUrl, token);
    clients.push(connected);
    return connected;
  };

  beforeAll(async () => {
    const files = await makeTempDir('automcp-http-files-');
    config = await writeConfigDir({
      runtime: {
        servers: {
          everything: everythingServer(),
          memory: memoryServer(join(files, 'memory.jsonl')),
          filesystem: filesystemServer(files),
        },
        callers: {
          alice: { profile: 'alpha', tokenEnv: ['AUTOMCP_TEST_TOKEN_A', 'AUTOMCP_TEST_TOKEN_A_NEXT'] },
          bob: { profile: 'beta', tokenSha256: sha256(TOKEN_B) },
          ops: { profile: 'all', tokenSha256: sha256(TOKEN_OPS) },
        },
      },
      profiles: {
        alpha: { description: 'everything only', tools: { allow: ['everything.*'] } },
        beta: { description: 'everything and memory', tools: { allow: ['everything.*', 'memory.*'] } },
        all: { description: 'every tool' },
      },
    });
    served = await startHttpServe({
      configDir: config.dir,
      env: { AUTOMCP_TEST_TOKEN_A: TOKEN_A, AUTOMCP_TEST_TOKEN_A_NEXT: TOKEN_A_NEXT },
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((connected) => connected.close()));
    await served?.stop();
    await config?.cleanup();
  });

  it('answers /healthz at once and /readyz once start-up finished, without a token', async () => {
    const health = await fetch(`${served.base}/healthz`);
    expect(health.status).toBe(200);
    const ready = await waitFor(async () => {
      const response = await fetch(`${served.base}/readyz`);
      return response.status === 200 ? response : undefined;
    }, 60_000);
    expect(await ready.json()).toEqual({ status: 'ready' });
    expect(served.logLines().some((line) => line.msg === 'downstream servers started')).toBe(true);
  });

  it('refuses /mcp without a token or with a wrong one: 401, WWW-Authenticate, a log line without the token', async () => {
    const missing = await postRpc({ mcpUrl: served.mcpUrl, method: 'tools/list' });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const wrong = await postRpc({ mcpUrl: served.mcpUrl, token: 'not-a-token-of-anyone', method: 'tools/list' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    await expect(connectHttpClient(served.mcpUrl)).rejects.toThrow();

    const refusals = await waitFor(() => {
      const lines = served.logLines().filter((line) => line.msg === 'unauthorized request');
      return lines.length >= 2 ? lines : undefined;
    });
    expect(refusals.map((line) => line.reason)).toEqual(expect.arrayContaining(['missing_token', 'invalid_token']));
    expect(served.process.stderr()).not.toContain('not-a-token-of-anyone');
  });

  it("applies the caller's profile: alice sees everything.* only, bob also memory.*", async () => {
    const alice = await client(TOKEN_A);
    const bob = await client(TOKEN_B);
    const tools = await alice.listTools();
    expect(tools.tools.map((tool) => tool.name).sort()).toEqual(['automatic_eval', 'automatic_mcp']);

    const aliceOut = await selectTools(alice, { query: 'remember facts about people in the knowledge graph', limit: 50 });
    const bobOut = await selectTools(bob, { query: 'remember facts about people in the knowledge graph', limit: 50 });
    expect(aliceOut.tools.length).toBeGreaterThan(0);
    expect(aliceOut.tools.every((tool) => tool.name.startsWith('everything.'))).toBe(true);
    expect(bobOut.tools.some((tool) => tool.name.startsWith('memory.'))).toBe(true);
    expect(bobOut.totalAvailable).toBeGreaterThan(aliceOut.totalAvailable);
  });

  it('accepts either of two tokens of one caller (rotation) as the same caller', async () => {
    const current = await client(TOKEN_A);
    const next = await client(TOKEN_A_NEXT);
    const first = await selectTools(current, { query: 'add two numbers', sessionId: 'rotation-1' });
    const second = await selectTools(next, { query: 'add two numbers', sessionId: 'rotation-1' });
    expect(first.tools.length).toBeGreaterThan(0);
    // The same caller, so the same session: the second token's call gets names only.
    expect(second.tools).toEqual([]);
    expect(second.unchanged.map((tool) => tool.name)).toEqual(first.tools.map((tool) => tool.name));
  });

  it("keeps alice's and bob's identical sessionIds apart", async () => {
    const alice = await client(TOKEN_A);
    const bob = await client(TOKEN_B);
    const query = { query: 'echo a message back', sessionId: 'same-id', limit: 3 };
    const aliceFirst = await selectTools(alice, query);
    const aliceRepeat = await selectTools(alice, query);
    const bobFirst = await selectTools(bob, query);
    expect(aliceFirst.tools.length).toBeGreaterThan(0);
    expect(aliceRepeat.tools).toEqual([]);
    expect(aliceRepeat.unchanged.length).toBe(aliceFirst.tools.length);
    // Bob's first call with the same sessionId gets everything in full: nothing of alice's session shows.
    expect(bobFirst.unchanged).toEqual([]);
    expect(bobFirst.tools.length).toBeGreaterThan(0);
    const shared = bobFirst.tools.filter((tool) => aliceFirst.tools.some((other) => other.hash === tool.hash));
    expect(shared.length).toBeGreaterThan(0);
  });

  it('does not let alice run bob-only tools, nor learn that they exist', async () => {
    const alice = await client(TOKEN_A);
    const bob = await client(TOKEN_B);
    const denied = errorPayload(await evalTool(alice, 'memory.read_graph', {}));
    expect(denied.error.code).toBe('TOOL_NOT_FOUND');
    expect(denied.didYouMean).toBeInstanceOf(Array);
    expect((denied.didYouMean as string[]).every((name) => name.startsWith('everything.'))).toBe(true);
    const allowed = await evalTool(bob, 'memory.read_graph', {});
    expect(allowed.isError).toBeFalsy();
    const sum = await evalTool(alice, 'everything.get-sum', { a: 20, b: 22 });
    expect(firstText(sum)).toContain('42');
  });

  it('serves stateless clients: no Mcp-Session-Id, a fresh connection per request, sessionId state kept', async () => {
    const list = await postRpc({ mcpUrl: served.mcpUrl, token: TOKEN_B, method: 'tools/list' });
    expect(list.status).toBe(200);
    expect(list.headers.get('mcp-session-id')).toBeNull();
    expect((list.message?.result as { tools: { name: string }[] }).tools.map((tool) => tool.name).sort()).toEqual([
      'automatic_eval',
      'automatic_mcp',
    ]);
    const call = (args: Record<string, unknown>) =>
      postRpc({
        mcpUrl: served.mcpUrl,
        token: TOKEN_B,
        method: 'tools/call',
        params: { name: 'automatic_mcp', arguments: args },
      });
    const first = (await call({ query: 'add two numbers', sessionId: 'stateless-1' })).message?.result as {
      structuredContent: McpOutput;
    };
    const repeat = (await call({ query: 'add two numbers', sessionId: 'stateless-1' })).message?.result as {
      structuredContent: McpOutput;
    };
    expect(first.structuredContent.tools.length).toBeGreaterThan(0);
    expect(repeat.structuredContent.tools).toEqual([]);
    expect(repeat.structuredContent.unchanged.length).toBe(first.structuredContent.tools.length);
    const evaluated = await postRpc({
      mcpUrl: served.mcpUrl,
      token: TOKEN_B,
      method: 'tools/call',
      params: { name: 'automatic_eval', arguments: { toolName: 'everything.get-sum', arguments: { a: 1, b: 2 } } },
    });
    expect(JSON.stringify(evaluated.message?.result)).toContain('The sum of 1 and 2 is 3');
  });

  it("answers another caller's MCP session id as unknown, and ends a session on DELETE", async () => {
    const init = await postRpc({
      mcpUrl: served.mcpUrl,
      token: TOKEN_A,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
    });
    const id = init.headers.get('mcp-session-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const withSession = (token: string) =>
      postRpc({
        mcpUrl: served.mcpUrl,
        token,
        method: 'tools/list',
        headers: { 'Mcp-Session-Id': id!, 'Mcp-Protocol-Version': '2025-06-18' },
      });
    expect((await withSession(TOKEN_A)).status).toBe(200);
    expect((await withSession(TOKEN_B)).status).toBe(404);

    const ended = await fetch(served.mcpUrl, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${TOKEN_A}`, 'Mcp-Session-Id': id!, 'Mcp-Protocol-Version': '2025-06-18' },
    });
    expect(ended.status).toBe(200);
    expect((await withSession(TOKEN_A)).status).toBe(404);
  });

  it('serves 50 concurrent clients without an error', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, async (_, index) => {
        const connected = await connectHttpClient(served.mcpUrl, index % 2 === 0 ? TOKEN_A : TOKEN_B);
        try {
          const selected = await selectTools(connected, { query: 'add two numbers' });
          if (!selected.tools.some((tool) => tool.name === 'everything.get-sum')) throw new Error('get-sum not selected');
          const sum = await evalTool(connected, 'everything.get-sum', { a: index, b: 1 });
          if (sum.isError || !firstText(sum).includes(`is ${index + 1}`)) throw new Error(`bad sum: ${JSON.stringify(sum)}`);
        } finally {
          await connected.close();
        }
      }),
    );
    const errors = results.filter((result) => result.status === 'rejected');
    expect(errors.map((result) => String((result as PromiseRejectedResult).reason))).toEqual([]);
  }, 120_000);

  it('exposes the metrics with real values after calls, without a token', async () => {
    const response = await fetch(`${served.base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const value = (name: string, labels?: Record<string, string>) => metricValue(text, name, labels);
    expect(value('automcp_selection_duration_seconds_count', { mode: 'lexical' })).toBeGreaterThanOrEqual(55);
    expect(value('automcp_selection_tools_returned_sum', { kind: 'full' })).toBeGreaterThan(0);
    expect(value('automcp_selection_tools_returned_sum', { kind: 'unchanged' })).toBeGreaterThan(0);
    const response_ = value('automcp_selection_response_tokens_total')!;
    const catalog = value('automcp_selection_catalog_tokens_total')!;
    expect(response_).toBeGreaterThan(0);
    expect(catalog).toBeGreaterThan(response_);
    expect(value('automcp_evals_total', { server: 'everything', outcome: 'ok' })).toBeGreaterThanOrEqual(52);
    expect(value('automcp_evals_total', { server: 'memory', outcome: 'ok' })).toBe(1);
    expect(value('automcp_evals_total', { server: '-', outcome: 'TOOL_NOT_FOUND' })).toBe(1);
    expect(value('automcp_eval_duration_seconds_count', { server: 'everything' })).toBeGreaterThanOrEqual(52);
    for (const server of ['everything', 'memory', 'filesystem']) expect(value('automcp_downstream_up', { server })).toBe(1);
    expect(value('automcp_sessions_active')).toBeGreaterThanOrEqual(3);
    expect(value('automcp_http_unauthorized_total', { reason: 'missing_token' })).toBeGreaterThanOrEqual(1);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
  });

  it('runs `automcp bench load` against it and reports its figures', async () => {
    const { stdout } = await execFileAsync(
      process.execPath,
      [CLI_PATH, 'bench', 'load', '--url', served.mcpUrl, '--clients', '4', '--calls', '24', '--token', TOKEN_OPS, '--json'],
      { cwd: REPO_ROOT, timeout: 120_000 },
    );
    const report = JSON.parse(stdout) as LoadReport;
    expect(report.errorSamples).toEqual([]);
    expect(report).toMatchObject({ clients: 4, calls: 24, errors: 0 });
    expect(report.byTool.automatic_mcp.count + report.byTool.automatic_eval.count).toBe(24);
    expect(report.byTool.automatic_mcp.count).toBe(9);
    expect(report.latency.p99).toBeGreaterThanOrEqual(report.latency.p50);
    expect(report.rssAfterBytes).toBeGreaterThan(10_000_000);
  }, 120_000);

  it('logs JSON lines with runId and caller for both tools', () => {
    const lines = served.logLines();
    const selection = lines.find((line) => line.msg === 'automatic_mcp' && line.caller === 'bob');
    const evaluation = lines.find((line) => line.msg === 'automatic_eval' && line.caller === 'alice');
    expect(selection?.runId).toMatch(/^r_/);
    expect(evaluation?.runId).toMatch(/^r_/);
    for (const token of [TOKEN_A, TOKEN_A_NEXT, TOKEN_B, TOKEN_OPS]) expect(served.process.stderr()).not.toContain(token);
  });
});

describe('serve --http start-up checks', () => {
  it('refuses a non-loopback address when no callers are configured, saying what to add', async () => {
    const config = await writeConfigDir({ runtime: { servers: {} } });
    try {
      const exit = await runServeToExit({ args: ['--http', '--host', '0.0.0.0', '--port', '0', '--config', config.dir] });
      expect(exit.timedOut).toBe(false);
      expect(exit.code).toBe(1);
      expect(exit.stderr).toContain('refusing to listen on 0.0.0.0 with no callers');
      expect(exit.stderr).toContain('callers:');
    } finally {
      await config.cleanup();
    }
  });

  it('fails closed on a caller whose profile does not exist or whose token variable is unset', async () => {
    const config = await writeConfigDir({
      runtime: { servers: {}, callers: { carol: { profile: 'nosuch', tokenEnv: 'AUTOMCP_TEST_UNSET_TOKEN' } } },
    });
    try {
      const exit = await runServeToExit({ args: ['--http', '--port', '0', '--config', config.dir] });
      expect(exit.code).toBe(1);
      expect(exit.stderr).toContain('callers.carol.profile');
      expect(exit.stderr).toContain('profile "nosuch" does not exist');
      expect(exit.stderr).toContain('callers.carol.tokenEnv: environment variable AUTOMCP_TEST_UNSET_TOKEN is not set');
    } finally {
      await config.cleanup();
    }
  });

  it('without callers on loopback, serves every request as the --profile, without a token', async () => {
    const config = await writeConfigDir({
      runtime: { servers: { everything: everythingServer() } },
      profiles: { sums: { tools: { allow: ['everything.get-sum'] } } },
    });
    const served = await startHttpServe({ configDir: config.dir, extraArgs: ['--profile', 'sums'] });
    let connected: Client | undefined;
    try {
      connected = await connectHttpClient(served.mcpUrl);
      const out = await selectTools(connected, { query: 'add two numbers' });
      expect(out.tools.map((tool) => tool.name)).toEqual(['everything.get-sum']);
      expect(out.totalAvailable).toBe(1);
      // A Host name other than loopback is refused: DNS rebinding cannot reach an unauthenticated gateway.
      const rebound = await new Promise<number | undefined>((done, fail) => {
        // fetch does not let a caller set Host; node:http does.
        const request = httpRequest(served.mcpUrl, { method: 'POST', headers: { Host: 'attacker.example' } }, (response) => {
          response.resume();
          done(response.statusCode);
        });
        request.once('error', fail);
        request.end('{}');
      });
      expect(rebound).toBe(403);
      await connected.close();
      connected = undefined;
      // SIGTERM ends the process cleanly, with a log line saying why.
      expect(await served.stop()).toEqual({ code: 0, signal: null });
      expect(served.logLines().some((line) => line.msg === 'stopping' && line.reason === 'SIGTERM')).toBe(true);
    } finally {
      await connected?.close();
      await served.stop();
      await config.cleanup();
    }
  }, 60_000);
});
