import { PassThrough } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { StdioUpstreamTransport } from '../../src/gateway/stdio.js';

describe('StdioUpstreamTransport', () => {
  it('reads messages line by line, reports a bad line and reads on, and writes one line per message', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const transport = new StdioUpstreamTransport(stdin, stdout);
    const messages: JSONRPCMessage[] = [];
    const errors: Error[] = [];
    transport.onmessage = (message) => messages.push(message);
    transport.onerror = (error) => errors.push(error);
    await transport.start();
    stdin.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\n{oops\n{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
    await expect.poll(() => messages.length).toBe(2);
    expect(messages).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SyntaxError);

    await transport.send({ jsonrpc: '2.0', id: 1, result: {} });
    expect(stdout.read()?.toString()).toBe('{"jsonrpc":"2.0","id":1,"result":{}}\n');

    let closed = false;
    transport.onclose = () => (closed = true);
    await transport.close();
    expect(closed).toBe(true);
    stdin.write('{"jsonrpc":"2.0","id":2,"method":"ping"}\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(messages).toHaveLength(2);
  });
});
