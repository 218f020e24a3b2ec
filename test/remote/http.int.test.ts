/**
 * Remote downstream servers: the real `server-everything` started in its Streamable HTTP mode and in
 * its legacy SSE mode on loopback ports; the gateway reaches the first directly and the second
 * through the SSE fallback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRuntime } from '../../src/config/load.js';
import { profileSchema } from '../../src/config/schema.js';
import { createGateway, type Gateway } from '../../src/gateway/create.js';

const EVERYTHING = resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');
// eval.meta: each result names the server that answered it.
const profile = { ...profileSchema.parse({ eval: { meta: true } }), name: 'default' };

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function startEverything(mode: 'streamableHttp' | 'sse', port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [EVERYTHING, mode], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`everything (${mode}) did not start`)), 15_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (/listening on port|running on port/i.test(chunk.toString())) {
        clearTimeout(timer);
        ready();
      }
    });
    child.once('exit', (code) => fail(new Error(`everything (${mode}) exited with ${code}`)));
  });
  return child;
}

describe('remote downstream servers', () => {
  const children: ChildProcess[] = [];
  let gateway: Gateway;

  beforeAll(async () => {
    const [httpPort, ssePort] = [await freePort(), await freePort()];
    children.push(await startEverything('streamableHttp', httpPort), await startEverything('sse', ssePort));
    const config = parseRuntime({
      file: '/tmp/automcp-remote/runtime.yaml',
      text: [
        'version: 1',
        'servers:',
        '  modern:',
        `    url: http://127.0.0.1:${httpPort}/mcp`,
        '  legacy:',
        `    url: http://127.0.0.1:${ssePort}/sse`,
        '    headers: {X-Demo: "${DEMO_HEADER:-on}"}',
      ].join('\n'),
    });
    gateway = await createGateway({ config });
  });

  afterAll(async () => {
    await gateway?.close();
    for (const child of children) child.kill('SIGKILL');
  });

  it('lists tools over Streamable HTTP and over the SSE fallback', async () => {
    const status = await gateway.start();
    expect(status.map((server) => [server.name, server.state])).toEqual([
      ['modern', 'up'],
      ['legacy', 'up'],
    ]);
    expect(gateway.catalog.get('modern.get-sum')).toBeDefined();
    expect(gateway.catalog.get('legacy.get-sum')).toBeDefined();
    // The same server in two modes exposes the same definitions apart from the qualified name.
    const modern = gateway.catalog.get('modern.echo')!.definition;
    const legacy = gateway.catalog.get('legacy.echo')!.definition;
    expect({ ...modern, name: '' }).toEqual({ ...legacy, name: '' });
  });

  it('forwards calls to both transports', async () => {
    const context = { caller: 'test', profile, connectionId: 'c1' };
    for (const server of ['modern', 'legacy']) {
      const result = await gateway.core.automaticEval({ toolName: `${server}.get-sum`, arguments: { a: 19, b: 23 } }, context);
      expect(result.isError).toBeFalsy();
      expect(JSON.stringify(result.content)).toContain('42');
      expect(result._meta?.['automcp/server']).toBe(server);
    }
  });
});
