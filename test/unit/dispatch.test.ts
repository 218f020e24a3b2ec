/**
 * The short route of tools/call (gateway/dispatch.ts) against the SDK's own client and server: what it
 * takes, what it leaves to the SDK, and that a caller sees the same answers, errors, progress and
 * cancellation either way.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  ErrorCode,
  McpError,
  type JSONRPCMessage,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { isPlainToolCall, routeToolCalls, type ToolCallExtra, type ToolCallHandler } from '../../src/gateway/dispatch.js';

interface Routed {
  client: Client;
  serverSide: Transport;
  /** Which route answered each call, in order. */
  routes: string[];
  /** The extra each call got. */
  extras: ToolCallExtra[];
  errors: Error[];
}

/** An SDK server whose tools/call goes to `handler` on both routes, with the short route installed. */
async function routed(handler: ToolCallHandler): Promise<Routed> {
  const routes: string[] = [];
  const extras: ToolCallExtra[] = [];
  const server = new Server({ name: 't', version: '0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    routes.push('sdk');
    const entry = { requestId: extra.requestId, signal: extra.signal };
    extras.push(entry);
    return handler(request.params, entry);
  });
  const errors: Error[] = [];
  server.onerror = (error) => errors.push(error);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  routeToolCalls(
    serverSide,
    (params, extra) => {
      routes.push('short');
      extras.push(extra);
      return handler(params, extra);
    },
    (error) => errors.push(error),
  );
  const client = new Client({ name: 'c', version: '0' });
  await client.connect(clientSide);
  return { client, serverSide, routes, extras, errors };
}

const echo: ToolCallHandler = async (params) => ({ content: [{ type: 'text', text: JSON.stringify(params) }] });

/** Sends `message` as the client's transport would and collects what comes back for a moment. */
async function exchange(client: Client, message: unknown): Promise<JSONRPCMessage[]> {
  const answers: JSONRPCMessage[] = [];
  const transport = client.transport!;
  const onmessage = transport.onmessage;
  transport.onmessage = (answer, extra) => {
    answers.push(answer);
    onmessage?.(answer, extra);
  };
  await transport.send(message as JSONRPCMessage);
  await new Promise((resolve) => setImmediate(resolve));
  transport.onmessage = onmessage;
  return answers;
}

describe('routeToolCalls', () => {
  it('answers a plain tools/call itself, with the same result the SDK route gives', async () => {
    const { client, routes } = await routed(echo);
    const result = await client.callTool({ name: 'x', arguments: { a: 1 } });
    // Should this become 'sdk', the SDK no longer routes through the transport's onmessage as it did.
    expect(routes).toEqual(['short']);
    expect(result).toEqual({ content: [{ type: 'text', text: '{"name":"x","arguments":{"a":1}}' }] });
    await client.close();
  });

  it('leaves a tools/call with more in its envelope to the SDK, which answers it the same way', async () => {
    const { client, routes } = await routed(echo);
    const result = await client.request(
      { method: 'tools/call', params: { name: 'x', arguments: { a: 1 }, _meta: { trace: 'abc' } } },
      CallToolResultSchema,
    );
    expect(routes).toEqual(['sdk']);
    const [block] = result.content as { text: string }[];
    expect(JSON.parse(block!.text)).toEqual({ name: 'x', arguments: { a: 1 }, _meta: { trace: 'abc' } });
    await client.close();
  });

  it('leaves a message with a result to the SDK, even when it also carries a method', async () => {
    const { client, routes, errors } = await routed(echo);
    const answers = await exchange(client, { jsonrpc: '2.0', id: 4242, method: 'tools/call', params: { name: 'x' }, result: {} });
    expect(routes).toEqual([]);
    expect(answers).toEqual([]);
    expect(errors.map((error) => error.message).join('\n')).toMatch(/Unknown message type/);
    await client.close();
  });

  it('sends handler errors as the SDK does: the McpError code, else InternalError', async () => {
    const { client } = await routed(async (params) => {
      if (params.name === 'mcp') throw new McpError(ErrorCode.InvalidParams, 'bad tool', { hint: 'x' });
      throw new Error('broken');
    });
    const [mcp] = await exchange(client, { jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'mcp' } });
    expect(mcp).toEqual({
      jsonrpc: '2.0',
      id: 'a',
      error: { code: ErrorCode.InvalidParams, message: 'MCP error -32602: bad tool', data: { hint: 'x' } },
    });
    const [plain] = await exchange(client, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'other' } });
    expect(plain).toEqual({ jsonrpc: '2.0', id: 7, error: { code: ErrorCode.InternalError, message: 'broken' } });
    await client.close();
  });

  it('passes progress notifications to the caller that asked for them', async () => {
    const { client, routes, extras } = await routed(async () => {
      extras[0]!.sendProgress?.({ progress: 1, total: 2 });
      return { content: [] };
    });
    const seen: Progress[] = [];
    await client.callTool({ name: 'x' }, undefined, { onprogress: (progress) => seen.push(progress) });
    expect(routes).toEqual(['short']);
    expect(seen).toEqual([{ progress: 1, total: 2 }]);
    await client.close();
  });

  it('aborts the handler of a cancelled request and sends no response', async () => {
    let release: () => void = () => undefined;
    const { client, routes, extras } = await routed(() => new Promise((resolve) => (release = () => resolve({ content: [] }))));
    const controller = new AbortController();
    const call = client.callTool({ name: 'slow' }, undefined, { signal: controller.signal });
    await expect.poll(() => extras.length).toBe(1);
    controller.abort('no longer needed');
    await expect(call).rejects.toThrow();
    await expect.poll(() => extras[0]!.signal.aborted).toBe(true);
    expect(extras[0]!.signal.reason).toBe('no longer needed');
    expect(routes).toEqual(['short']);
    // The late result is dropped: nothing reaches the client.
    const answers: JSONRPCMessage[] = [];
    const onmessage = client.transport!.onmessage;
    client.transport!.onmessage = (message, extra) => {
      answers.push(message);
      onmessage?.(message, extra);
    };
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(answers).toEqual([]);
    await client.close();
  });

  it('aborts every request in flight when the connection closes', async () => {
    const { client, extras, serverSide } = await routed(() => new Promise(() => undefined));
    void client.callTool({ name: 'a' }).catch(() => undefined);
    void client.callTool({ name: 'b' }).catch(() => undefined);
    await expect.poll(() => extras.length).toBe(2);
    await serverSide.close();
    expect(extras.map((extra) => extra.signal.aborted)).toEqual([true, true]);
  });
});

describe('isPlainToolCall', () => {
  const call = (extra: Record<string, unknown> = {}, params: Record<string, unknown> = { name: 't' }) =>
    ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params, ...extra }) as unknown as JSONRPCMessage;

  it.each([
    ['a plain call', call(), true],
    ['a string id', call({ id: 'r-1' }), true],
    ['arguments and a progress token', call({}, { name: 't', arguments: { a: [1] }, _meta: { progressToken: 'p' } }), true],
    ['another method', call({ method: 'tools/list' }), false],
    ['a fractional id', call({ id: 1.5 }), false],
    ['no id (a notification)', call({ id: undefined }), false],
    ['a result beside the method', call({ result: {} }), false],
    ['a name that is not a string', call({}, { name: 3 }), false],
    ['arguments that are an array', call({}, { name: 't', arguments: [1] }), false],
    ['other _meta', call({}, { name: 't', _meta: { progressToken: 1, other: true } }), false],
    ['a task', call({}, { name: 't', task: { ttl: 1 } }), false],
    ['another JSON-RPC version', call({ jsonrpc: '1.0' }), false],
  ])('%s: %s', (_label, message, expected) => {
    expect(isPlainToolCall(message)).toBe(expected);
  });
});
