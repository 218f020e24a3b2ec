import { ErrorCode, McpError, type CallToolResult, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  automaticMcp,
  callTool,
  errorPayload,
  FakeDownstream,
  makeProfile,
  runtimeFor,
  startInProcessGateway,
  toolDefinition,
  type FakeTool,
  type InProcessGateway,
} from '../helpers/inprocess.js';

/** Resolves when `signal` aborts. */
const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });

let sawAbort = false;
let releaseProgress: (() => void) | undefined;

function filesTools(): FakeTool[] {
  return [
    {
      definition: toolDefinition('read_text_file', 'Read the complete contents of a text file.', {
        inputSchema: {
          type: 'object',
          properties: { path: { type: 'string' }, head: { type: 'integer', minimum: 1 } },
          required: ['path'],
          additionalProperties: false,
        },
        annotations: { readOnlyHint: true },
      }),
      handler: (args) => ({ content: [{ type: 'text', text: `contents of ${String(args.path)}` }] }),
    },
    {
      definition: toolDefinition('file_info', 'Get the size and kind of a file.', {
        inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
        outputSchema: {
          type: 'object',
          properties: { size: { type: 'number' }, kind: { type: 'string' } },
          required: ['size', 'kind'],
        },
      }),
      handler: () => ({
        content: [
          { type: 'text', text: '{"size":12,"kind":"file"}' },
          { type: 'image', data: 'aGVsbG8=', mimeType: 'image/png' },
        ],
        structuredContent: { size: 12, kind: 'file' },
        _meta: { 'example.com/trace': 'abc' },
      }),
    },
    {
      definition: toolDefinition('delete_file', 'Delete a file.', {
        inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
      }),
      handler: () => ({ content: [{ type: 'text', text: 'deleted' }] }),
    },
    {
      definition: toolDefinition('fails_softly', 'A tool that reports its own failure.'),
      handler: () => ({ isError: true, content: [{ type: 'text', text: 'disk full' }] }),
    },
    {
      definition: toolDefinition('throws_protocol_error', 'A tool whose server answers with a JSON-RPC error.'),
      handler: () => {
        throw new McpError(ErrorCode.InternalError, 'database is locked');
      },
    },
    {
      definition: toolDefinition('crashes', 'A tool whose server dies mid-call.'),
      handler: async (_args, extra) => {
        await extra.transport.close();
        return { content: [{ type: 'text', text: 'never delivered' }] };
      },
    },
    {
      definition: toolDefinition('hangs', 'A tool that only finishes when cancelled.'),
      handler: async (_args, extra) => {
        await aborted(extra.signal);
        sawAbort = true;
        return { content: [{ type: 'text', text: 'cancelled' }] };
      },
    },
    {
      definition: toolDefinition('long_job', 'A long job that reports progress.'),
      handler: async (_args, extra) => {
        const token = extra._meta?.progressToken;
        if (token !== undefined) {
          for (const progress of [1, 2, 3]) {
            await extra.sendNotification({
              method: 'notifications/progress',
              params: { progressToken: token, progress, total: 3, message: `step ${progress}` },
            });
          }
        }
        releaseProgress?.();
        return { content: [{ type: 'text', text: token === undefined ? 'done without progress' : 'done' }] };
      },
    },
  ];
}

let running: InProcessGateway | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
  sawAbort = false;
  releaseProgress = undefined;
});

async function start(options: { fail?: Set<string>; profileTimeoutMs?: number } = {}) {
  const files = new FakeDownstream('files', filesTools());
  const notes = new FakeDownstream('notes', [
    {
      definition: toolDefinition('search_notes', 'Search saved notes.'),
      handler: () => ({ content: [{ type: 'text', text: '[]' }] }),
    },
  ]);
  running = await startInProcessGateway({
    servers: [files, notes],
    config: runtimeFor(['files', 'notes']),
    ...(options.fail ? { fail: options.fail } : {}),
  });
  return { gw: running, files, notes };
}

const everything = makeProfile('default');

describe('automatic_eval: forwarding', () => {
  it('forwards the call with the downstream name and the arguments, and passes the result through', async () => {
    const { gw, files } = await start();
    const client = await gw.connect(everything);
    const result = await callTool(client, 'automatic_eval', { toolName: 'files.read_text_file', arguments: { path: '/a.txt' } });
    expect(files.calls).toEqual([{ tool: 'read_text_file', arguments: { path: '/a.txt' } }]);
    expect(result.isError).toBeFalsy();
    expect(result.content).toEqual([{ type: 'text', text: 'contents of /a.txt' }]);
    expect(result.structuredContent).toBeUndefined();
  });

  it('returns the downstream result exactly as it came, _meta included and nothing added', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    const result = await callTool(client, 'automatic_eval', { toolName: 'files.file_info', arguments: { path: '/a' } });
    expect(result).toEqual({
      content: [
        { type: 'text', text: '{"size":12,"kind":"file"}' },
        { type: 'image', data: 'aGVsbG8=', mimeType: 'image/png' },
      ],
      structuredContent: { size: 12, kind: 'file' },
      _meta: { 'example.com/trace': 'abc' },
    });
  });

  it('adds the server and the duration under automcp/ in _meta when the profile asks (eval.meta)', async () => {
    const { gw } = await start();
    const client = await gw.connect(makeProfile('traced', { eval: { meta: true } }));
    const result = await callTool(client, 'automatic_eval', { toolName: 'files.file_info', arguments: { path: '/a' } });
    expect(result.content).toHaveLength(2);
    expect(result.structuredContent).toEqual({ size: 12, kind: 'file' });
    expect(result._meta).toEqual({
      'example.com/trace': 'abc',
      'automcp/server': 'files',
      'automcp/durationMs': expect.any(Number),
    });
  });

  it('passes a downstream isError result through as the tool’s own result', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    const result = await callTool(client, 'automatic_eval', { toolName: 'files.fails_softly' });
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([{ type: 'text', text: 'disk full' }]);
  });

  it('defaults arguments to {}', async () => {
    const { gw, notes } = await start();
    const client = await gw.connect(everything);
    await callTool(client, 'automatic_eval', { toolName: 'notes.search_notes' });
    expect(notes.calls).toEqual([{ tool: 'search_notes', arguments: {} }]);
  });

  it('works with a tool name as automatic_mcp returned it', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    const selection = await automaticMcp(client, { query: 'read a text file' });
    const name = selection.tools[0]!.name;
    const result = await callTool(client, 'automatic_eval', { toolName: name, arguments: { path: '/x' } });
    expect(result.content).toEqual([{ type: 'text', text: 'contents of /x' }]);
  });

  it('forwards progress notifications when the upstream request carries a progress token', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    const seen: Progress[] = [];
    const result = (await client.callTool({ name: 'automatic_eval', arguments: { toolName: 'files.long_job' } }, undefined, {
      onprogress: (progress) => seen.push(progress),
    })) as CallToolResult;
    expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(seen.map((progress) => progress.progress)).toEqual([1, 2, 3]);
    expect(seen[2]).toMatchObject({ progress: 3, total: 3, message: 'step 3' });
  });

  it('asks for no progress downstream when the upstream request has no progress token', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    const result = await callTool(client, 'automatic_eval', { toolName: 'files.long_job' });
    expect(result.content).toEqual([{ type: 'text', text: 'done without progress' }]);
  });

  it('cancelling the upstream request cancels the downstream call', async () => {
    const { gw, files } = await start();
    const client = await gw.connect(everything);
    const controller = new AbortController();
    const call = client.callTool({ name: 'automatic_eval', arguments: { toolName: 'files.hangs' } }, undefined, {
      signal: controller.signal,
    });
    // Wait until the downstream has the call, then cancel upstream.
    await expect.poll(() => files.calls.length, { timeout: 5000, interval: 5 }).toBe(1);
    controller.abort('user cancelled');
    await expect(call).rejects.toThrow();
    await expect.poll(() => sawAbort, { timeout: 5000, interval: 5 }).toBe(true);
  });

  it('closing the upstream connection cancels its downstream calls', async () => {
    const { gw, files } = await start();
    const client = await gw.connect(everything);
    const call = client.callTool({ name: 'automatic_eval', arguments: { toolName: 'files.hangs' } });
    await expect.poll(() => files.calls.length, { timeout: 5000, interval: 5 }).toBe(1);
    await client.close();
    await expect(call).rejects.toThrow(/closed/i);
    await expect.poll(() => sawAbort, { timeout: 5000, interval: 5 }).toBe(true);
  });

  it('a request cancelled before its handler ran is never forwarded', async () => {
    const { gw, files } = await start();
    const client = await gw.connect(everything);
    const transport = client.transport!;
    const params = { name: 'automatic_eval', arguments: { toolName: 'files.hangs' } };
    // Both messages arrive in one go, as they can in one stdio read: the cancel lands before the handler runs.
    void transport.send({ jsonrpc: '2.0', id: 'early', method: 'tools/call', params });
    void transport.send({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 'early', reason: 'changed my mind' },
    });
    // A later call on the same connection goes through, so the first one had its chance to be forwarded.
    const later = await callTool(client, 'automatic_eval', { toolName: 'files.read_text_file', arguments: { path: '/a' } });
    expect(later.isError).toBeFalsy();
    expect(files.calls.map((call) => call.tool)).toEqual(['read_text_file']);
  });

  it('a cancellation of another request leaves a running call alone', async () => {
    const { gw, files } = await start();
    const client = await gw.connect(everything);
    const call = client.callTool({ name: 'automatic_eval', arguments: { toolName: 'files.hangs' } });
    await expect.poll(() => files.calls.length, { timeout: 5000, interval: 5 }).toBe(1);
    // A cancellation for a request id this connection never used, then one for a non-request.
    await client.notification({ method: 'notifications/cancelled', params: { requestId: 9999, reason: 'not yours' } });
    await client.notification({ method: 'notifications/cancelled', params: { requestId: 'x', reason: 'nor this' } });
    await new Promise((resolve) => setImmediate(resolve));
    expect(sawAbort).toBe(false);
    // The call is still live: cancelling it for real reaches the downstream server.
    await client.close();
    await expect(call).rejects.toThrow();
    await expect.poll(() => sawAbort, { timeout: 5000, interval: 5 }).toBe(true);
  });
});

describe('automatic_eval: gateway errors', () => {
  it('INVALID_ARGUMENTS carries the tool name, its inputSchema and the violations; nothing is forwarded', async () => {
    const { gw, files } = await start();
    const client = await gw.connect(everything);
    const payload = errorPayload(
      await callTool(client, 'automatic_eval', { toolName: 'files.read_text_file', arguments: { head: 'ten', extra: 1 } }),
    );
    expect(payload.error.code).toBe('INVALID_ARGUMENTS');
    expect(payload.tool).toEqual({
      name: 'files.read_text_file',
      inputSchema: {
        type: 'object',
        properties: { path: { type: 'string' }, head: { type: 'integer', minimum: 1 } },
        required: ['path'],
        additionalProperties: false,
      },
    });
    const violations = payload.violations as { path: string; message: string }[];
    expect(violations).toEqual(
      expect.arrayContaining([
        { path: '/', message: expect.stringContaining('"path"') },
        { path: '/head', message: expect.stringMatching(/integer/) },
        { path: '/', message: expect.stringContaining('"extra"') },
      ]),
    );
    expect(files.calls).toEqual([]);
  });

  it('TOOL_NOT_FOUND for an unknown tool suggests close names', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    const payload = errorPayload(await callTool(client, 'automatic_eval', { toolName: 'files.read_txt_file' }));
    expect(payload.error.code).toBe('TOOL_NOT_FOUND');
    expect(payload.didYouMean).toEqual(expect.arrayContaining(['files.read_text_file']));
    expect((payload.didYouMean as string[]).length).toBeLessThanOrEqual(3);
  });

  it('TOOL_NOT_FOUND for a tool outside the profile, suggesting only allowed tools, and nothing is forwarded', async () => {
    const { gw, files } = await start();
    const profile = makeProfile('reader', { tools: { allow: ['files.read_*', 'notes.*'] } });
    const client = await gw.connect(profile);
    const hidden = errorPayload(
      await callTool(client, 'automatic_eval', { toolName: 'files.delete_file', arguments: { path: '/a' } }),
    );
    expect(hidden.error.code).toBe('TOOL_NOT_FOUND');
    const suggestions = hidden.didYouMean as string[];
    expect(Array.isArray(suggestions)).toBe(true);
    for (const name of suggestions) expect(['files.read_text_file', 'notes.search_notes']).toContain(name);
    expect(files.calls).toEqual([]);
    // A hidden tool and a tool that does not exist look the same.
    const missing = errorPayload(
      await callTool(client, 'automatic_eval', { toolName: 'files.delete_fil', arguments: { path: '/a' } }),
    );
    expect(Object.keys(missing).sort()).toEqual(Object.keys(hidden).sort());
    expect(missing.error.message.replace('delete_fil', 'X')).toBe(hidden.error.message.replace('delete_file', 'X'));
  });

  it('TOOL_NOT_FOUND for a denied tool and for a non-read-only tool under readOnly', async () => {
    const { gw } = await start();
    const denied = await gw.connect(makeProfile('no-delete', { tools: { deny: ['*.delete_*'] } }));
    expect(
      errorPayload(await callTool(denied, 'automatic_eval', { toolName: 'files.delete_file', arguments: { path: '/a' } })).error
        .code,
    ).toBe('TOOL_NOT_FOUND');
    const readOnly = await gw.connect(makeProfile('ro', { tools: { readOnly: true } }));
    const payload = errorPayload(
      await callTool(readOnly, 'automatic_eval', { toolName: 'files.file_info', arguments: { path: '/a' } }),
    );
    expect(payload.error.code).toBe('TOOL_NOT_FOUND');
    for (const name of payload.didYouMean as string[]) expect(name).toBe('files.read_text_file');
  });

  it('INVALID_INPUT for malformed eval input', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    for (const args of [{}, { toolName: '' }, { toolName: 'files.read_text_file', arguments: [1] }, { toolName: 'a.b', x: 1 }]) {
      expect(errorPayload(await callTool(client, 'automatic_eval', args)).error.code, JSON.stringify(args)).toBe('INVALID_INPUT');
    }
  });
});

describe('automatic_eval: downstream failures', () => {
  it('a protocol error from the tool handler is DOWNSTREAM_ERROR naming the server', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    const payload = errorPayload(await callTool(client, 'automatic_eval', { toolName: 'files.throws_protocol_error' }));
    expect(payload.error.code).toBe('DOWNSTREAM_ERROR');
    expect(payload.server).toBe('files');
    expect(payload.error.message).toContain('database is locked');
  });

  it('a tool the downstream no longer knows is DOWNSTREAM_ERROR naming the server', async () => {
    const { gw, files } = await start();
    const client = await gw.connect(everything);
    // The server drops the tool without telling anyone: the gateway still lists it.
    await files.setTools(
      files.tools.filter((tool) => tool.definition.name !== 'delete_file'),
      { notify: false },
    );
    const payload = errorPayload(
      await callTool(client, 'automatic_eval', { toolName: 'files.delete_file', arguments: { path: '/a' } }),
    );
    expect(payload.error.code).toBe('DOWNSTREAM_ERROR');
    expect(payload.server).toBe('files');
    expect(payload.error.message).toMatch(/Unknown tool/);
  });

  it('a server that dies mid-call is DOWNSTREAM_ERROR, and the next call reconnects', async () => {
    const { gw, files } = await start();
    const client = await gw.connect(everything);
    const payload = errorPayload(await callTool(client, 'automatic_eval', { toolName: 'files.crashes' }));
    expect(payload.error.code).toBe('DOWNSTREAM_ERROR');
    expect(payload.server).toBe('files');
    expect(files.connections).toBe(1);
    const next = await callTool(client, 'automatic_eval', { toolName: 'files.read_text_file', arguments: { path: '/b' } });
    expect(next.content).toEqual([{ type: 'text', text: 'contents of /b' }]);
    expect(files.connections).toBe(2);
  });

  it('a server that cannot be started is DOWNSTREAM_UNAVAILABLE naming the server; other servers still work', async () => {
    const { gw, notes } = await start({ fail: new Set(['notes']) });
    const client = await gw.connect(everything);
    const payload = errorPayload(await callTool(client, 'automatic_eval', { toolName: 'notes.search_notes' }));
    expect(payload.error.code).toBe('DOWNSTREAM_UNAVAILABLE');
    expect(payload.server).toBe('notes');
    expect(notes.calls).toEqual([]);
    const ok = await callTool(client, 'automatic_eval', { toolName: 'files.read_text_file', arguments: { path: '/c' } });
    expect(ok.content).toEqual([{ type: 'text', text: 'contents of /c' }]);
  });

  it('a server that is down reveals nothing to a profile that may not use its tools', async () => {
    const { gw } = await start({ fail: new Set(['notes']) });
    const client = await gw.connect(makeProfile('files-only', { tools: { allow: ['files.*'] } }));
    const payload = errorPayload(await callTool(client, 'automatic_eval', { toolName: 'notes.search_notes' }));
    expect(payload.error.code).toBe('TOOL_NOT_FOUND');
    expect(payload).not.toHaveProperty('server');
    for (const name of payload.didYouMean as string[]) expect(name.startsWith('files.')).toBe(true);
  });

  it('a server that failed at start is started again by a later call', async () => {
    const files = new FakeDownstream('files', filesTools());
    const failing = new Set(['files']);
    running = await startInProcessGateway({ servers: [files], config: runtimeFor(['files']), fail: failing });
    const client = await running.connect(everything);
    expect(
      errorPayload(await callTool(client, 'automatic_eval', { toolName: 'files.read_text_file', arguments: { path: '/a' } }))
        .error.code,
    ).toBe('DOWNSTREAM_UNAVAILABLE');
    failing.delete('files');
    const result = await callTool(client, 'automatic_eval', { toolName: 'files.read_text_file', arguments: { path: '/a' } });
    expect(result.content).toEqual([{ type: 'text', text: 'contents of /a' }]);
  });

  it('a server that went away after listing and cannot be restarted is DOWNSTREAM_UNAVAILABLE', async () => {
    const files = new FakeDownstream('files', filesTools());
    const failing = new Set<string>();
    running = await startInProcessGateway({ servers: [files], config: runtimeFor(['files']), fail: failing });
    const client = await running.connect(everything);
    // Kill the connection, then make restarts fail.
    failing.add('files');
    const crash = errorPayload(await callTool(client, 'automatic_eval', { toolName: 'files.crashes' }));
    expect(crash.error.code).toBe('DOWNSTREAM_ERROR');
    const payload = errorPayload(
      await callTool(client, 'automatic_eval', { toolName: 'files.read_text_file', arguments: { path: '/a' } }),
    );
    expect(payload.error.code).toBe('DOWNSTREAM_UNAVAILABLE');
    expect(payload.server).toBe('files');
    // automatic_mcp still answers from the catalog it has.
    expect((await automaticMcp(client, { query: 'read a text file' })).tools[0]?.name).toBe('files.read_text_file');
  });

  it('no answer within the profile timeout is DOWNSTREAM_TIMEOUT with server and timeoutMs', async () => {
    const { gw } = await start();
    const client = await gw.connect(makeProfile('impatient', { eval: { timeoutMs: 50 } }));
    const payload = errorPayload(await callTool(client, 'automatic_eval', { toolName: 'files.hangs' }));
    expect(payload.error.code).toBe('DOWNSTREAM_TIMEOUT');
    expect(payload.server).toBe('files');
    expect(payload.timeoutMs).toBe(50);
  });

  it('the server timeout applies when it is shorter than the profile timeout', async () => {
    const files = new FakeDownstream('files', filesTools());
    running = await startInProcessGateway({ servers: [files], config: runtimeFor([{ name: 'files', timeoutMs: 40 }]) });
    const client = await running.connect(everything);
    const payload = errorPayload(await callTool(client, 'automatic_eval', { toolName: 'files.hangs' }));
    expect(payload.error.code).toBe('DOWNSTREAM_TIMEOUT');
    expect(payload.timeoutMs).toBe(40);
  });
});
