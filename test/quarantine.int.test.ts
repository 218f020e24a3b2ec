/**
 * Quarantine over HTTP, end to end: a caller with its own grant adds a server through
 * `automcp.add_server` on a running `serve --http`; the server starts, but none of its tools can be
 * selected or run until a person runs `automcp review approve`, after which the same conversation uses
 * them. A second caller whose profile cannot see the server is told the tool does not exist.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeTempStateDir, writeConfigDir, type TempConfig } from './helpers/config.js';
import { errorPayload, evalTool, firstText, runCli, selectTools, waitFor, type McpOutput } from './helpers/gateway.js';
import { connectHttpClient, startHttpServe } from './helpers/http.js';

const ADMIN_TOKEN = 'quarantine-test-admin-token-0123456789';
const OTHER_TOKEN = 'quarantine-test-other-token-0123456789';

let config: TempConfig;
let state: { dir: string; cleanup(): void };

const names = (output: McpOutput) => [...output.tools, ...output.unchanged].map((tool) => tool.name);

beforeAll(async () => {
  state = makeTempStateDir();
  config = await writeConfigDir({
    runtime: {
      servers: { echo: fixtureServer('echo') },
      ops: { allowCommands: [process.execPath] },
      callers: {
        admin: { profile: 'admin', tokenEnv: 'QUARANTINE_ADMIN_TOKEN' },
        other: { profile: 'echo-only', tokenEnv: 'QUARANTINE_OTHER_TOKEN' },
      },
    },
    profiles: {
      // Over HTTP, add_server needs its own line; automcp.* alone would not grant it.
      admin: { description: 'Operates the gateway.', tools: { allow: ['*', 'automcp.add_server', 'automcp.get_server'] } },
      'echo-only': { description: 'Echo only.', tools: { allow: ['echo.*'] } },
    },
  });
});

afterAll(async () => {
  await config?.cleanup();
  state?.cleanup();
});

describe('a server an agent adds over HTTP', () => {
  it('is quarantined until a person approves it with automcp review approve', async () => {
    const env = { XDG_STATE_HOME: state.dir, QUARANTINE_ADMIN_TOKEN: ADMIN_TOKEN, QUARANTINE_OTHER_TOKEN: OTHER_TOKEN };
    const served = await startHttpServe({ configDir: config.dir, env });
    const admin = await connectHttpClient(served.mcpUrl, ADMIN_TOKEN);
    const other = await connectHttpClient(served.mcpUrl, OTHER_TOKEN);
    try {
      const added = await evalTool(admin, 'automcp.add_server', { name: 'math', ...fixtureServer('poisoned') });
      expect(added.isError, firstText(added)).toBeFalsy();
      expect(added.structuredContent).toMatchObject({ quarantined: true, status: { name: 'math', quarantined: true, tools: 0 } });
      expect(await readFile(config.runtimeFile, 'utf8')).toMatch(/math:[\s\S]*quarantine: true/);

      const before = await selectTools(admin, { query: 'multiply two numbers with the math server', limit: 10 });
      expect(names(before).filter((name) => name.startsWith('math.'))).toEqual([]);
      expect(errorPayload(await evalTool(admin, 'math.multiply', { a: 6, b: 7 }))).toMatchObject({
        error: { code: 'TOOL_HELD_BACK' },
        reason: 'quarantined',
      });
      expect(errorPayload(await evalTool(other, 'math.multiply', { a: 6, b: 7 })).error.code).toBe('TOOL_NOT_FOUND');

      // automcp status reads what the running gateway reports.
      const status = await waitFor(
        async () => {
          const run = await runCli(['status', '--config', config.dir], { XDG_STATE_HOME: state.dir });
          return run.stdout.includes('quarantined (run automcp review math)') ? run.stdout : undefined;
        },
        10_000,
        'automcp status to show math quarantined',
      );
      expect(status).toMatch(/math .*0 tools.*2 held back/);

      // The overview, from the catalog cache the gateway wrote, without starting anything.
      const overview = await waitFor(
        async () => {
          const run = await runCli(['review', '--config', config.dir], { XDG_STATE_HOME: state.dir });
          return /math\s+quarantined\s+2 tools, 2 held back/.test(run.stdout) ? run.stdout : undefined;
        },
        10_000,
        'automcp review to list math as quarantined',
      );
      expect(overview).toMatch(/echo\s+approved\s+4 tools/);

      // The review shows the poisoned definition with its findings, escaped for a terminal.
      const review = await runCli(['review', 'math', '--config', config.dir], { XDG_STATE_HOME: state.dir });
      expect(review.code, review.stderr).toBe(0);
      expect(review.stdout).toContain('server math: quarantined');
      expect(review.stdout).toMatch(/! secret-access in description: .*id_rsa/);

      const digest = /--digest ([0-9a-f]{16})/.exec(review.stdout)?.[1];
      expect(digest).toBeDefined();
      const stale = await runCli(['review', 'approve', 'math', '--config', config.dir, '--digest', '0000000000000000'], {
        XDG_STATE_HOME: state.dir,
      });
      expect(stale.code).toBe(1);
      expect(stale.stderr).toContain('math was not approved');
      const approved = await runCli(['review', 'approve', 'math', '--config', config.dir, '--digest', digest!], {
        XDG_STATE_HOME: state.dir,
      });
      expect(approved.code, approved.stderr).toBe(0);
      expect(approved.stdout).toContain('approved 2 tool definitions of math');
      expect(approved.stdout).toContain('accepted the findings of 1');

      const product = await waitFor(
        async () => {
          const result = await evalTool(admin, 'math.multiply', { a: 6, b: 7 });
          return result.isError ? undefined : firstText(result);
        },
        10_000,
        'the gateway to release math after approval',
      );
      expect(product).toBe('42');
      const afterwards = await runCli(['review', '--config', config.dir], { XDG_STATE_HOME: state.dir });
      expect(afterwards.stdout).toMatch(/math\s+approved\s+2 tools/);
      const after = await selectTools(admin, { query: 'multiply two numbers with the math server', limit: 10 });
      expect(names(after)).toContain('math.multiply');
      expect(errorPayload(await evalTool(other, 'math.multiply', { a: 6, b: 7 })).error.code).toBe('TOOL_NOT_FOUND');
    } finally {
      await Promise.allSettled([admin.close(), other.close()]);
      await served.stop();
    }
  });
});
