/**
 * The downstream tools/call lane (downstream/toolCalls.ts) against the SDK's own server: it settles
 * every call as `Client.callTool` would (results, errors, timeouts, progress, cancellation, a closed
 * connection) and leaves every other message to the client.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Progress,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { needsClient, ToolCallLane } from '../../src/downstream/toolCalls.js';

type Handler = (
  args: Record<string, unknown>,
  extra: { signal: AbortSignal; progress: (value: number) => Promise<void> },
) => Promise<unknown>;

/** A downstream server whose tools/call runs `handler`; a client connected to it, and the lane. */
async function downstream(handler: Handler) {
  const server = new Server({ name: 'down', version: '0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 't', inputSchema: { type: 'object' } }] }));
  const aborted: unknown[] = [];
  const started: unknown[] = [];
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    started.push(request.params.arguments);
    extra.signal.addEventListener('abort', () => aborted.push(extra.signal.reason));
    const token = request.params._meta?.progressToken;
    const progress = async (value: number) => {
      if (token !== undefined)
        await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: value } });
    };
    return (await handler(request.params.arguments ?? {}, { signal: extra.signal, progress })) as CallToolResult;
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'up', version: '0' });
  const errors: Error[] = [];
  client.onerror = (error) => errors.push(error);
  await client.connect(clientSide);
  const lane = new ToolCallLane(clientSide);
  return { client, lane, aborted, started, errors, server };
}

describe('ToolCallLane', () => {
  it('gives the result Client.callTool gives, and the client sees none of it', async () => {
    const { client, lane, errors } = await downstream(async (args) => ({ content: [{ type: 'text', text: String(args.word) }] }));
    const viaLane = await lane.call('t', { word: 'hi' }, { timeout: 1000 });
    expect(viaLane).toEqual(await client.callTool({ name: 't', arguments: { word: 'hi' } }));
    expect(viaLane).toEqual({ content: [{ type: 'text', text: 'hi' }] });
    // Other messages still reach the client, and it never saw a response it did not expect.
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['t']);
    expect(errors).toEqual([]);
    await client.close();
  });

  it('rejects with the McpError of a JSON-RPC error, and with the schema error of a malformed result', async () => {
    const { client, lane } = await downstream(async (args) => {
      if (args.kind === 'throw') throw new McpError(ErrorCode.InvalidParams, 'nope', { why: 1 });
      return { content: 'not a list' };
    });
    const error = await lane.call('t', { kind: 'throw' }, { timeout: 1000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ code: ErrorCode.InvalidParams, data: { why: 1 } });
    // The SDK client rejects the same result for the same reason.
    await expect(client.callTool({ name: 't', arguments: {} })).rejects.toThrow(/content/);
    await expect(lane.call('t', {}, { timeout: 1000 })).rejects.toThrow(/content/);
    await client.close();
  });

  it('times out with RequestTimeout and tells the server to stop; progress restarts the timeout', async () => {
    const { client, lane, aborted } = await downstream(async (args, { signal, progress }) => {
      if (args.kind === 'hang') return new Promise(() => undefined);
      // Three progress reports 40 ms apart outlast a 100 ms timeout only because each restarts it.
      for (let i = 1; i <= 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 40));
        if (signal.aborted) return { content: [] };
        await progress(i);
      }
      return { content: [{ type: 'text', text: 'done' }] };
    });
    const error = await lane.call('t', { kind: 'hang' }, { timeout: 30 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: ErrorCode.RequestTimeout, data: { timeout: 30 } });
    await expect.poll(() => aborted.length).toBe(1);

    const seen: Progress[] = [];
    const result = await lane.call('t', { kind: 'slow' }, { timeout: 100, onprogress: (progress) => seen.push(progress) });
    expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(seen).toEqual([{ progress: 1 }, { progress: 2 }, { progress: 3 }]);
    await client.close();
  });

  it('cancels downstream when the signal aborts, rejecting as the SDK does', async () => {
    const { client, lane, aborted, started } = await downstream(() => new Promise(() => undefined));
    const controller = new AbortController();
    const call = lane.call('t', {}, { timeout: 5000, signal: controller.signal });
    await expect.poll(() => started.length).toBe(1);
    controller.abort('user left');
    const error = await call.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toContain('user left');
    await expect.poll(() => aborted).toEqual(['user left']);
    // An already aborted signal sends nothing at all.
    await expect(lane.call('t', {}, { timeout: 5000, signal: controller.signal })).rejects.toBe('user left');
    expect(started).toHaveLength(1);
    await client.close();
  });

  it('rejects calls in flight with ConnectionClosed when the connection closes', async () => {
    const { client, lane } = await downstream(() => new Promise(() => undefined));
    let closed = false;
    client.onclose = () => (closed = true);
    const call = lane.call('t', {}, { timeout: 5000 });
    await client.close();
    await expect(call).rejects.toMatchObject({ code: ErrorCode.ConnectionClosed });
    // The client heard of the close too.
    expect(closed).toBe(true);
  });
});

describe('needsClient', () => {
  const tool = (extra: Partial<Tool>): Tool => ({ name: 't', inputSchema: { type: 'object' }, ...extra });
  it.each([
    ['a plain tool', tool({}), false],
    ['an output schema (the client checks results against it)', tool({ outputSchema: { type: 'object' } }), true],
    ['optional task support', tool({ execution: { taskSupport: 'optional' } }), true],
    ['required task support', tool({ execution: { taskSupport: 'required' } }), true],
    ['tasks forbidden', tool({ execution: { taskSupport: 'forbidden' } }), false],
  ])('%s: %s', (_label, definition, expected) => {
    expect(needsClient(definition)).toBe(expected);
  });
});
