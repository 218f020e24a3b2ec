/**
 * stdout of `automcp serve` belongs to JSON-RPC. Without an SDK client in between, the test reads every
 * byte the gateway writes while downstream servers print to their own stdout and stderr, crash and get
 * restarted; then it closes stdin, as a client does, and expects the gateway and its children to go away.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingServer, fixtureServer, makeTempDir, writeConfigDir, type TempConfig } from './helpers/config.js';
import { delay, isAlive, waitFor } from './helpers/gateway.js';
import { spawnServe, type JsonRpcMessage, type RawServe } from './helpers/rawServe.js';

let tmp: string;
let config: TempConfig;

beforeAll(async () => {
  tmp = await makeTempDir('automcp-stdio-');
  config = await writeConfigDir({
    dir: join(tmp, 'config'),
    runtime: {
      servers: {
        echo: fixtureServer('echo'),
        noisy: fixtureServer('noisy'),
        crash: fixtureServer('crash'),
        everything: everythingServer(),
      },
    },
    profiles: { default: { description: 'Everything.' } },
  });
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function toolResult(response: JsonRpcMessage): {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
} {
  if (!response.result) throw new Error(`expected a result, got ${JSON.stringify(response)}`);
  return response.result as ReturnType<typeof toolResult>;
}

function isJsonRpcMessage(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const message = value as Record<string, unknown>;
  if (message.jsonrpc !== '2.0') return false;
  if (typeof message.method === 'string') return true; // request or notification
  const hasId = typeof message.id === 'string' || typeof message.id === 'number';
  return hasId && 'result' in message !== 'error' in message;
}

describe('automcp serve on stdio', () => {
  it('writes nothing but JSON-RPC to stdout, and stops with its children when stdin closes', async () => {
    let raw: RawServe | undefined;
    try {
      raw = spawnServe({ args: ['--config', config.dir] });
      const init = await raw.initialize();
      expect(init.result).toMatchObject({ serverInfo: { name: 'automcp' }, capabilities: { tools: {} } });

      const list = await raw.request('tools/list', {});
      expect((list.result?.tools as { name: string }[]).map((tool) => tool.name).sort()).toEqual([
        'automatic_eval',
        'automatic_mcp',
      ]);

      const selected = toolResult(
        await raw.request('tools/call', { name: 'automatic_mcp', arguments: { query: 'say hello to someone' } }),
      );
      expect(selected.isError).toBeFalsy();

      const call = (toolName: string, args: Record<string, unknown> = {}) =>
        raw!.request('tools/call', { name: 'automatic_eval', arguments: { toolName, arguments: args } });

      expect(toolResult(await call('echo.echo', { message: 'over raw stdio' })).content).toEqual([
        { type: 'text', text: 'over raw stdio' },
      ]);
      expect(toolResult(await call('noisy.hello', { name: 'raw' })).content).toEqual([{ type: 'text', text: 'hello, raw' }]);
      expect(toolResult(await call('everything.toggle-simulated-logging')).isError).toBeFalsy();
      expect(toolResult(await call('crash.crash')).isError).toBe(true);
      const pong = toolResult(await call('crash.ping'));
      expect(pong.isError).toBeFalsy();
      const crashPid = (pong.structuredContent as { pid: number }).pid;
      const echoPid = (toolResult(await call('echo.stats')).structuredContent as { pid: number }).pid;
      expect(toolResult(await call('nosuch.tool')).isError).toBe(true);
      const unknownMethod = await raw.request('nosuch/method', {});
      expect(unknownMethod.error).toBeDefined();
      // Let the noisy server's timer run (three more ticks read and ignored) while simulated logging is on.
      const noiseRead = () =>
        raw!
          .stderr()
          .split('\n')
          .filter((line) => line.includes('"server":"noisy"') && line.includes('not JSON-RPC')).length;
      const noiseBefore = noiseRead();
      await waitFor(() => (noiseRead() >= noiseBefore + 3 ? true : undefined), 10_000, 'three more noisy ticks');
      expect(toolResult(await call('everything.toggle-simulated-logging')).isError).toBeFalsy();

      raw.endStdin();
      const exit = await Promise.race([raw.exited, delay(10_000).then(() => undefined)]);
      expect(exit, 'serve should exit after stdin closes').toBeDefined();
      expect(exit?.code).toBe(0);

      const lines = raw.stdoutLines();
      expect(lines.length).toBeGreaterThanOrEqual(12); // one response per request sent
      for (const line of lines) {
        let parsed: unknown;
        expect(() => (parsed = JSON.parse(line)), `stdout line is not JSON: ${line}`).not.toThrow();
        expect(isJsonRpcMessage(parsed), `stdout line is not a JSON-RPC message: ${line}`).toBe(true);
      }
      expect(raw.stdoutRemainder()).toBe('');
      const stdout = lines.join('\n');
      expect(stdout).not.toContain('noisy tick');
      expect(stdout).not.toContain('echo-server: starting');
      expect(stdout).not.toContain('crash-server: crashing');

      // Downstream children are gone with the gateway.
      for (const pid of [echoPid, crashPid]) {
        await waitFor(() => (isAlive(pid) ? undefined : true), 5_000, `downstream pid ${pid} to exit`);
      }
    } finally {
      raw?.kill();
    }
  });
});
