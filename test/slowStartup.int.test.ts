/**
 * A downstream server that starts but never completes the MCP handshake (stuck on something, or a
 * wrong command that waits on stdin) must not hold the healthy servers hostage: their tools are
 * selectable and callable right away, not after the hung server's start timeout. And the gateway must
 * not leave that process behind when it stops.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeTempDir, writeConfigDir } from './helpers/config.js';
import { evalTool, firstText, isAlive, serveGateway, type McpOutput, type ServedGateway } from './helpers/gateway.js';

/** Far below the gateway's 30 s start timeout, far above a fixture server's start-up. */
const PROMPT_MS = 10_000;

let tmp: string;
let hangPidFile: string;
let gateway: ServedGateway | undefined;

async function hangPids(): Promise<number[]> {
  const text = await readFile(hangPidFile, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(Number);
}

beforeAll(async () => {
  tmp = await makeTempDir('automcp-hang-');
  hangPidFile = join(tmp, 'hang.pids');
  const config = await writeConfigDir({
    dir: join(tmp, 'config'),
    runtime: {
      servers: {
        echo: fixtureServer('echo'),
        hung: fixtureServer('hang', { env: { HANG_PID_FILE: hangPidFile }, description: 'Never finishes starting' }),
      },
    },
    profiles: { default: { description: 'Everything.' } },
  });
  gateway = await serveGateway({ configDir: config.dir });
});

afterAll(async () => {
  try {
    await gateway?.close();
  } finally {
    // Whatever the gateway left running, this test started: stop it by pid.
    for (const pid of await hangPids()) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
});

describe('a server that never finishes starting', () => {
  it('does not delay calls to the healthy servers', { timeout: 45_000 }, async () => {
    const client = gateway!.client;
    // Once the healthy fixture is up (however long tsx takes under load), its tools must be served promptly.
    await gateway!.waitForLog((line) => line.msg === 'server up' && line.server === 'echo', 30_000);
    const started = Date.now();
    const result = await evalTool(client, 'echo.echo', { message: 'not held up' }, { timeout: PROMPT_MS });
    expect(firstText(result)).toBe('not held up');
    expect(Date.now() - started).toBeLessThan(PROMPT_MS);

    const selectedAt = Date.now();
    const selection = await client.callTool({ name: 'automatic_mcp', arguments: { query: 'echo a message' } }, undefined, {
      timeout: PROMPT_MS,
    });
    expect((selection.structuredContent as McpOutput).tools.map((tool) => tool.name)).toContain('echo.echo');
    expect(Date.now() - selectedAt).toBeLessThan(PROMPT_MS);
  });

  it('is stopped when the gateway stops', { timeout: 45_000 }, async () => {
    const pids = await hangPids();
    expect(pids.length).toBeGreaterThan(0);
    const serving = gateway!;
    gateway = undefined;
    await serving.close();
    await expect
      .poll(() => pids.filter(isAlive), {
        timeout: 5_000,
        interval: 100,
        message: 'hung downstream processes left running after the gateway stopped',
      })
      .toEqual([]);
  });
});
