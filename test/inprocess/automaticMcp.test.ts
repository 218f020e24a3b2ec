import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { countTokens } from '../../src/tokens/count.js';
import {
  automaticMcp,
  callTool,
  errorPayload,
  FakeDownstream,
  makeProfile,
  runtimeFor,
  startInProcessGateway,
  textOf,
  toolDefinition,
  type FakeTool,
  type InProcessGateway,
} from '../helpers/inprocess.js';

const ok = (text: string): CallToolResult => ({ content: [{ type: 'text', text }] });

function filesTools(readDescription = 'Read the complete contents of a text file.'): FakeTool[] {
  return [
    {
      definition: toolDefinition('read_text_file', readDescription, {
        inputSchema: { type: 'object', properties: { path: { type: 'string', description: 'File path' } }, required: ['path'] },
        annotations: { readOnlyHint: true },
      }),
      handler: (args) => ok(`contents of ${String(args.path)}`),
    },
    {
      definition: toolDefinition('write_file', 'Write text content to a file, replacing it.', {
        inputSchema: {
          type: 'object',
          properties: { path: { type: 'string' }, content: { type: 'string' } },
          required: ['path', 'content'],
        },
      }),
      handler: () => ok('written'),
    },
    {
      definition: toolDefinition('file_info', 'Get the size of a file in bytes.', {
        inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
        outputSchema: { type: 'object', properties: { size: { type: 'number' } }, required: ['size'] },
        annotations: { readOnlyHint: true },
      }),
      handler: () => ({ content: [{ type: 'text', text: '{"size":12}' }], structuredContent: { size: 12 } }),
    },
  ];
}

function notesTools(): FakeTool[] {
  return [
    { definition: toolDefinition('search_notes', 'Search saved notes by keyword.'), handler: () => ok('[]') },
    { definition: toolDefinition('delete_note', 'Delete a saved note.'), handler: () => ok('deleted') },
  ];
}

let running: InProcessGateway | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(options: { files?: FakeDownstream; notes?: FakeDownstream; ttlSeconds?: number } = {}) {
  const files = options.files ?? new FakeDownstream('files', filesTools());
  const notes = options.notes ?? new FakeDownstream('notes', notesTools());
  const config = runtimeFor(
    [
      { name: 'files', description: 'Local files' },
      { name: 'notes', description: 'A notebook' },
    ],
    options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {},
  );
  running = await startInProcessGateway({ servers: [files, notes], config });
  return { gw: running, files, notes };
}

const everything = makeProfile('default');

describe('tools/list', () => {
  it('lists exactly automatic_mcp and automatic_eval, with automatic_mcp declaring an outputSchema', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['automatic_mcp', 'automatic_eval']);
    const [mcp, evalTool] = tools;
    expect(mcp!.outputSchema).toMatchObject({ type: 'object', required: expect.arrayContaining(['tools', 'unchanged', 'etag']) });
    expect(mcp!.inputSchema.required).toEqual(['query']);
    expect(evalTool!.inputSchema.required).toEqual(['toolName']);
    expect(client.getServerVersion()?.name).toBe('automcp');
    const descriptions = tools.map((tool) => tool.description ?? '').join('\n');
    expect(countTokens(descriptions)).toBeLessThan(300);
  });

  it('does not change when the downstream catalog changes', async () => {
    const { gw, files } = await start();
    const client = await gw.connect(everything);
    const before = await client.listTools();
    const changed = gw.nextCatalogChange();
    await files.setTools([...filesTools(), { definition: toolDefinition('extra', 'Extra tool.'), handler: () => ok('') }]);
    await changed;
    expect(await client.listTools()).toEqual(before);
  });

  it('rejects a call to a tool that is not one of the two as a protocol error', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    await expect(client.callTool({ name: 'files.read_text_file', arguments: {} })).rejects.toThrow(/unknown tool/);
  });
});

describe('automatic_mcp', () => {
  it('returns structured content in the contract shape, mirrored as JSON text', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    await client.listTools(); // lets the SDK client validate structuredContent against the outputSchema
    const result = await callTool(client, 'automatic_mcp', { query: 'read a text file' });
    expect(result.isError).toBeFalsy();
    const output = result.structuredContent as Record<string, unknown>;
    expect(JSON.parse(textOf(result))).toEqual(output);
    expect(Object.keys(output).sort()).toEqual(['etag', 'mode', 'runId', 'tools', 'totalAvailable', 'unchanged']);
    expect(output.runId).toMatch(/^r_[0-9a-f]+$/);
    expect(output.mode).toBe('lexical');
    expect(output.etag).toMatch(/^[0-9a-f]+$/);
    expect(output.totalAvailable).toBe(5);
    expect(output.unchanged).toEqual([]);
    const tools = output.tools as Record<string, unknown>[];
    expect(tools[0]).toEqual({
      name: 'files.read_text_file',
      description: 'Read the complete contents of a text file.',
      inputSchema: { type: 'object', properties: { path: { type: 'string', description: 'File path' } }, required: ['path'] },
      annotations: { readOnlyHint: true },
      hash: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
  });

  it('includes outputSchema only for tools that have one', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    const output = await automaticMcp(client, { query: 'file size bytes and write file', limit: 10 });
    const info = output.tools.find((tool) => tool.name === 'files.file_info');
    const write = output.tools.find((tool) => tool.name === 'files.write_file');
    expect(info?.outputSchema).toEqual({ type: 'object', properties: { size: { type: 'number' } }, required: ['size'] });
    expect(write).toBeDefined();
    expect(write).not.toHaveProperty('outputSchema');
    expect(write).not.toHaveProperty('annotations');
  });

  it('returns names and hashes only for definitions the session already received', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    const first = await automaticMcp(client, { query: 'read a text file', sessionId: 'conv-1' });
    expect(first.tools.length).toBeGreaterThan(0);
    const second = await automaticMcp(client, { query: 'read a text file', sessionId: 'conv-1' });
    expect(second.tools).toEqual([]);
    expect(second.unchanged).toEqual(first.tools.map((tool) => ({ name: tool.name, hash: tool.hash })));
    for (const entry of second.unchanged) expect(Object.keys(entry).sort()).toEqual(['hash', 'name']);
    expect(second.runId).not.toBe(first.runId);
    // Names-only is much smaller than the full definitions.
    expect(countTokens(JSON.stringify(second))).toBeLessThan(countTokens(JSON.stringify(first)));
  });

  it('sends only the new tools when a later query overlaps an earlier one', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    const first = await automaticMcp(client, { query: 'read a text file', sessionId: 's', limit: 1 });
    expect(first.tools.map((tool) => tool.name)).toEqual(['files.read_text_file']);
    const second = await automaticMcp(client, { query: 'read or write a text file', sessionId: 's', limit: 5 });
    expect(second.unchanged.map((tool) => tool.name)).toContain('files.read_text_file');
    expect(second.tools.map((tool) => tool.name)).not.toContain('files.read_text_file');
    expect(second.tools.map((tool) => tool.name)).toContain('files.write_file');
  });

  it('fresh: true sends full definitions again', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    const first = await automaticMcp(client, { query: 'read a text file', sessionId: 'c' });
    await automaticMcp(client, { query: 'read a text file', sessionId: 'c' });
    const fresh = await automaticMcp(client, { query: 'read a text file', sessionId: 'c', fresh: true });
    expect(fresh.tools).toEqual(first.tools);
    expect(fresh.unchanged).toEqual([]);
    // And the session now holds them again.
    const after = await automaticMcp(client, { query: 'read a text file', sessionId: 'c' });
    expect(after.tools).toEqual([]);
  });

  it('a new sessionId gets full definitions', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    const first = await automaticMcp(client, { query: 'read a text file', sessionId: 'one' });
    const other = await automaticMcp(client, { query: 'read a text file', sessionId: 'two' });
    expect(other.tools).toEqual(first.tools);
    expect(other.unchanged).toEqual([]);
  });

  it('without a sessionId, the session is the connection', async () => {
    const { gw } = await start();
    const clientA = await gw.connect(everything);
    const clientB = await gw.connect(everything);
    const first = await automaticMcp(clientA, { query: 'read a text file' });
    expect((await automaticMcp(clientA, { query: 'read a text file' })).tools).toEqual([]);
    const otherConnection = await automaticMcp(clientB, { query: 'read a text file' });
    expect(otherConnection.tools).toEqual(first.tools);
  });

  it('two connections of one caller share an explicit sessionId', async () => {
    const { gw } = await start();
    const clientA = await gw.connect(everything);
    const clientB = await gw.connect(everything);
    await automaticMcp(clientA, { query: 'read a text file', sessionId: 'shared' });
    const fromB = await automaticMcp(clientB, { query: 'read a text file', sessionId: 'shared' });
    expect(fromB.tools).toEqual([]);
    expect(fromB.unchanged.length).toBeGreaterThan(0);
  });

  it('two different callers with the same sessionId do not share', async () => {
    const { gw } = await start();
    const alice = await gw.connect(everything, { caller: 'alice' });
    const bob = await gw.connect(everything, { caller: 'bob' });
    const first = await automaticMcp(alice, { query: 'read a text file', sessionId: 'same' });
    const fromBob = await automaticMcp(bob, { query: 'read a text file', sessionId: 'same' });
    expect(fromBob.tools).toEqual(first.tools);
    expect(fromBob.unchanged).toEqual([]);
    expect((await automaticMcp(alice, { query: 'read a text file', sessionId: 'same' })).tools).toEqual([]);
  });

  it('a session forgotten after the TTL gets full definitions again', async () => {
    const { gw } = await start({ ttlSeconds: 60 });
    const client = await gw.connect(everything);
    await automaticMcp(client, { query: 'read a text file', sessionId: 'ttl' });
    gw.clock.advance(30_000);
    expect((await automaticMcp(client, { query: 'read a text file', sessionId: 'ttl' })).tools).toEqual([]);
    gw.clock.advance(61_000);
    expect((await automaticMcp(client, { query: 'read a text file', sessionId: 'ttl' })).tools.length).toBeGreaterThan(0);
  });

  it('honours limit, and the profile limit by default', async () => {
    const { gw } = await start();
    const client = await gw.connect(makeProfile('small', { selection: { limit: 1 } }));
    const byProfile = await automaticMcp(client, { query: 'file text notes size write read' });
    expect(byProfile.tools.length + byProfile.unchanged.length).toBe(1);
    const byInput = await automaticMcp(client, { query: 'file text notes size write read', limit: 3, sessionId: 'x' });
    expect(byInput.tools.length + byInput.unchanged.length).toBe(3);
  });

  it('only selects tools inside the profile and counts only those', async () => {
    const { gw } = await start();
    const reader = makeProfile('reader', { tools: { allow: ['files.*'], readOnly: true } });
    const client = await gw.connect(reader);
    const output = await automaticMcp(client, { query: 'write or delete a file or note', limit: 50 });
    expect(output.totalAvailable).toBe(2);
    for (const tool of [...output.tools, ...output.unchanged])
      expect(['files.read_text_file', 'files.file_info']).toContain(tool.name);
  });

  it('the etag is stable across calls and differs between profiles that see different tools', async () => {
    const { gw } = await start();
    const client = await gw.connect(everything);
    const reader = await gw.connect(makeProfile('reader', { tools: { allow: ['files.*'] } }));
    const a = await automaticMcp(client, { query: 'read a file' });
    const b = await automaticMcp(client, { query: 'search notes', sessionId: 'other' });
    const c = await automaticMcp(reader, { query: 'read a file' });
    expect(b.etag).toBe(a.etag);
    expect(c.etag).not.toBe(a.etag);
  });

  it('after tools/list_changed with a changed tool, the etag changes and the changed definition comes back full', async () => {
    const { gw, files } = await start();
    const client = await gw.connect(everything);
    const before = await automaticMcp(client, { query: 'read a text file', sessionId: 's' });
    const oldRead = before.tools.find((tool) => tool.name === 'files.read_text_file')!;
    expect((await automaticMcp(client, { query: 'read a text file', sessionId: 's' })).tools).toEqual([]);

    const changed = gw.nextCatalogChange();
    await files.setTools(filesTools('Read the complete contents of a text file, as UTF-8.'));
    const change = await changed;
    expect(change.changed.map((entry) => entry.name)).toEqual(['files.read_text_file']);

    const after = await automaticMcp(client, { query: 'read a text file', sessionId: 's' });
    expect(after.etag).not.toBe(before.etag);
    const newRead = after.tools.find((tool) => tool.name === 'files.read_text_file');
    expect(newRead?.description).toBe('Read the complete contents of a text file, as UTF-8.');
    expect(newRead?.hash).not.toBe(oldRead.hash);
    // Tools that did not change stay names-only.
    const unchangedNames = after.unchanged.map((tool) => tool.name);
    expect(unchangedNames).not.toContain('files.read_text_file');
    for (const tool of before.tools.filter((entry) => entry.name !== 'files.read_text_file')) {
      if ([...after.tools, ...after.unchanged].some((entry) => entry.name === tool.name))
        expect(unchangedNames).toContain(tool.name);
    }
    expect(files.connections).toBe(1);
  });

  it('a change outside the profile does not move its etag', async () => {
    const { gw, notes } = await start();
    const client = await gw.connect(makeProfile('files-only', { tools: { allow: ['files.*'] } }));
    const before = await automaticMcp(client, { query: 'read a file' });
    const changed = gw.nextCatalogChange();
    await notes.setTools([
      ...notesTools(),
      { definition: toolDefinition('archive_note', 'Archive a note.'), handler: () => ok('') },
    ]);
    await changed;
    const after = await automaticMcp(client, { query: 'read a file' });
    expect(after.etag).toBe(before.etag);
  });

  it('a tool added downstream becomes selectable', async () => {
    const { gw, notes } = await start();
    const client = await gw.connect(everything);
    expect((await automaticMcp(client, { query: 'translate a sentence' })).tools).toEqual([]);
    const changed = gw.nextCatalogChange();
    await notes.setTools([
      ...notesTools(),
      { definition: toolDefinition('translate', 'Translate a sentence into another language.'), handler: () => ok('') },
    ]);
    await changed;
    const output = await automaticMcp(client, { query: 'translate a sentence' });
    expect(output.tools[0]?.name).toBe('notes.translate');
    expect(output.totalAvailable).toBe(6);
  });

  it.each([
    [{ query: '   ' }, /query/],
    [{ query: 'x'.repeat(4001) }, /4000/],
    [{ query: 'q', sessionId: 'bad id!' }, /sessionId/],
    [{ query: 'q', limit: 0 }, /limit/],
    [{ query: 'q', limit: 51 }, /limit/],
    [{ query: 'q', bogus: true }, /bogus/],
  ])('rejects %j with INVALID_INPUT', async (args, message) => {
    const { gw } = await start();
    const client: Client = await gw.connect(everything);
    const payload = errorPayload(await callTool(client, 'automatic_mcp', args));
    expect(payload.error.code).toBe('INVALID_INPUT');
    expect(payload.error.message).toMatch(message);
  });

  it('keeps working when one downstream server cannot start', async () => {
    const files = new FakeDownstream('files', filesTools());
    const notes = new FakeDownstream('notes', notesTools());
    running = await startInProcessGateway({ servers: [files, notes], fail: new Set(['notes']) });
    const client = await running.connect(everything);
    const output = await automaticMcp(client, { query: 'read a text file' });
    expect(output.tools[0]?.name).toBe('files.read_text_file');
    expect(output.totalAvailable).toBe(3);
    expect(running.gateway.registry.status().map((status) => [status.name, status.state])).toEqual([
      ['files', 'up'],
      ['notes', 'failed'],
    ]);
  });
});
