import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ListToolsRequestSchema, ListToolsResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { routeRequestsDirectly } from '../../src/gateway/dispatch.js';

async function connected(): Promise<{ server: Server; serverSide: Transport; client: Client; errors: Error[] }> {
  const server = new Server({ name: 't', version: '0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [] }));
  const errors: Error[] = [];
  server.onerror = (error) => errors.push(error);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'c', version: '0' });
  await client.connect(clientSide);
  return { server, serverSide, client, errors };
}

describe('routeRequestsDirectly', () => {
  it('takes over request routing with this SDK, and requests are still answered', async () => {
    const { server, serverSide, client } = await connected();
    // False here means the SDK renamed its request entry point: requests would pay its classification again.
    expect(routeRequestsDirectly(server, serverSide)).toBe(true);
    expect(await client.listTools()).toEqual({ tools: [] });
    expect(await client.ping()).toEqual({});
    await client.close();
  });

  it('leaves messages with a result to the SDK, even when they also carry a method', async () => {
    const { server, serverSide, client, errors } = await connected();
    routeRequestsDirectly(server, serverSide);
    const other = client.transport!;
    await other.send({ jsonrpc: '2.0', id: 4242, method: 'tools/list', result: {} } as never);
    // The SDK's classification judged it (it fits no message type), rather than answering it as a request.
    expect(errors.map((error) => error.message).join('\n')).toMatch(/Unknown message type/);
    await client.close();
  });

  it('answers requests whose envelope needs the SDK guard, and leaves malformed ones unanswered', async () => {
    const { server, serverSide, client, errors } = await connected();
    routeRequestsDirectly(server, serverSide);
    // _meta (here a progress token) sends the request through the SDK's own guard; it is still answered.
    expect(
      await client.request({ method: 'tools/list', params: { _meta: { progressToken: 7 } } }, ListToolsResultSchema),
    ).toEqual({
      tools: [],
    });
    const answers: unknown[] = [];
    const other = client.transport!;
    const onmessage = other.onmessage;
    other.onmessage = (message, extra) => {
      answers.push(message);
      onmessage?.(message, extra);
    };
    // A fractional id is not a JSON-RPC request id: the SDK rejects the message, nobody answers it.
    await other.send({ jsonrpc: '2.0', id: 1.5, method: 'tools/list' } as never);
    await other.send({ jsonrpc: '2.0', id: 8, method: 'tools/list', extra: true } as never);
    await new Promise((resolve) => setImmediate(resolve));
    expect(answers).toEqual([]);
    expect(errors.filter((error) => /Unknown message type/.test(error.message))).toHaveLength(2);
    await client.close();
  });

  it('without the SDK entry point leaves the SDK routing in place', async () => {
    const { serverSide, client } = await connected();
    const route = serverSide.onmessage;
    expect(routeRequestsDirectly({} as Server, serverSide)).toBe(false);
    expect(serverSide.onmessage).toBe(route);
    expect(await client.listTools()).toEqual({ tools: [] });
    await client.close();
  });
});
