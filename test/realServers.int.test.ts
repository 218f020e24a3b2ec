/**
 * The gateway against real MCP servers from npm (filesystem, memory, everything), run as
 * `automcp serve --config <dir>` with no --profile flag, exactly as a client config would start it.
 * One serve process is shared by the file; every test uses its own sessionId unless it is about the
 * default (per-connection) session.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import xxhash from 'xxhash-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { everythingServer, filesystemServer, makeTempDir, memoryServer, writeConfigDir } from './helpers/config.js';
import {
  errorPayload,
  evalTool,
  firstText,
  selectTools,
  serveGateway,
  sortDeep,
  type McpOutput,
  type ServedGateway,
} from './helpers/gateway.js';

const FILE_READERS = ['filesystem.read_text_file', 'filesystem.read_file', 'filesystem.read_multiple_files'];
const DEFAULT_LIMIT = 6;

let tmp: string;
let filesDir: string;
let memoryFile: string;
let gateway: ServedGateway;
let sessionCounter = 0;
const newSession = (label: string) => `real-${label}-${++sessionCounter}`;

beforeAll(async () => {
  tmp = await makeTempDir('automcp-real-');
  filesDir = join(tmp, 'files');
  await mkdir(filesDir);
  await writeFile(join(filesDir, 'notes.txt'), 'The quick brown fox jumps over the lazy dog.\n');
  memoryFile = join(tmp, 'memory.jsonl');
  const config = await writeConfigDir({
    dir: join(tmp, 'config'),
    runtime: {
      servers: {
        filesystem: filesystemServer(filesDir, {
          description: 'Read, write, search and list files and folders on the local disk',
        }),
        memory: memoryServer(memoryFile, { description: 'Knowledge-graph memory of entities, relations and observations' }),
        everything: everythingServer({ description: 'MCP reference server exercising every protocol feature' }),
      },
    },
    profiles: {
      // Loaded without any --profile flag: proves `default` is the implicit profile.
      default: {
        description: 'A general assistant.',
        tools: { allow: ['*'], deny: ['everything.get-env'] },
        selection: { limit: DEFAULT_LIMIT, mode: 'auto' },
      },
    },
  });
  gateway = await serveGateway({ configDir: config.dir });
});

afterAll(async () => {
  try {
    await gateway?.close();
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
});

function names(output: McpOutput): string[] {
  return [...output.tools.map((tool) => tool.name), ...output.unchanged.map((tool) => tool.name)];
}

describe('upstream surface', () => {
  it('lists exactly automatic_mcp and automatic_eval, with short descriptions and an output schema', async () => {
    const { tools } = await gateway.client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['automatic_eval', 'automatic_mcp']);
    const mcp = tools.find((tool) => tool.name === 'automatic_mcp');
    expect(mcp?.outputSchema).toBeDefined();
    expect(mcp?.inputSchema.required).toEqual(['query']);
    expect((mcp?.inputSchema as Record<string, unknown>).additionalProperties).toBe(false);
    const encoder = new Tiktoken(cl100k);
    const descriptionTokens = tools.reduce((sum, tool) => sum + encoder.encode(tool.description ?? '').length, 0);
    expect(descriptionTokens).toBeGreaterThan(0);
    expect(descriptionTokens).toBeLessThan(300);
  });

  it('keeps the same tools/list after calls', async () => {
    const before = await gateway.client.listTools();
    await selectTools(gateway.client, { query: 'search the knowledge graph', sessionId: newSession('list') });
    const after = await gateway.client.listTools();
    expect(after.tools).toEqual(before.tools);
  });
});

describe('automatic_mcp selection', () => {
  it('ranks a filesystem read tool in the top 3 for a file-reading task, with valid hashes', async () => {
    const output = await selectTools(gateway.client, {
      query: 'read the contents of a text file',
      sessionId: newSession('read'),
    });
    expect(output.mode).toBe('lexical'); // no LLM configured
    expect(output.unchanged).toEqual([]);
    const top3 = output.tools.slice(0, 3).map((tool) => tool.name);
    expect(top3.some((name) => FILE_READERS.includes(name))).toBe(true);
    expect(output.runId).toMatch(/\S/);
    expect(output.etag).toMatch(/\S/);

    const { h64ToString } = await xxhash();
    for (const tool of output.tools) {
      expect(tool.name).toMatch(/^[A-Za-z0-9_-]{1,64}\.[^.]/);
      expect(typeof tool.description).toBe('string');
      expect(tool.inputSchema).toMatchObject({ type: 'object' });
      expect(tool.hash).toMatch(/^[0-9a-f]{16}$/);
      // hash = xxHash64 of the canonical JSON (keys sorted) of the definition as exposed, without `hash`.
      const { hash, ...definition } = tool;
      expect(h64ToString(JSON.stringify(sortDeep(definition))).padStart(16, '0')).toBe(hash);
    }
    const readText = output.tools.find((tool) => tool.name === 'filesystem.read_text_file');
    if (readText) expect(readText.annotations).toMatchObject({ readOnlyHint: true });
  });

  it('returns names and hashes only for definitions the session already has', async () => {
    const sessionId = newSession('repeat');
    const query = 'read the contents of a text file';
    const first = await selectTools(gateway.client, { query, sessionId });
    expect(first.tools.length).toBeGreaterThan(0);
    expect(first.unchanged).toEqual([]);

    const second = await selectTools(gateway.client, { query, sessionId });
    expect(second.tools).toEqual([]);
    expect(second.unchanged).toEqual(first.tools.map((tool) => ({ name: tool.name, hash: tool.hash })));
    for (const entry of second.unchanged) expect(Object.keys(entry).sort()).toEqual(['hash', 'name']);
    expect(second.etag).toBe(first.etag);
    expect(second.runId).not.toBe(first.runId);

    // fresh: the agent lost the schemas; everything comes back in full, with the same hashes.
    const fresh = await selectTools(gateway.client, { query, sessionId, fresh: true });
    expect(fresh.unchanged).toEqual([]);
    expect(fresh.tools.map((tool) => [tool.name, tool.hash])).toEqual(first.tools.map((tool) => [tool.name, tool.hash]));
    expect(fresh.tools).toEqual(first.tools);

    // ...and after fresh the session holds them again.
    const afterFresh = await selectTools(gateway.client, { query, sessionId });
    expect(afterFresh.tools).toEqual([]);
    expect(afterFresh.unchanged.map((entry) => entry.name)).toEqual(first.tools.map((tool) => tool.name));

    // A new conversation gets full definitions.
    const other = await selectTools(gateway.client, { query, sessionId: newSession('other') });
    expect(other.unchanged).toEqual([]);
    expect(other.tools).toEqual(first.tools);
  });

  it('sends only what is new when a later query overlaps an earlier one', async () => {
    const sessionId = newSession('overlap');
    const first = await selectTools(gateway.client, { query: 'read the contents of a text file', sessionId, limit: 5 });
    const sent = new Map(first.tools.map((tool) => [tool.name, tool.hash]));
    const second = await selectTools(gateway.client, { query: 'read several files and list a directory', sessionId, limit: 10 });
    for (const tool of second.tools) expect(sent.has(tool.name)).toBe(false);
    for (const entry of second.unchanged) expect(entry.hash).toBe(sent.get(entry.name));
    expect(second.unchanged.length).toBeGreaterThan(0);
  });

  it('defaults the session to the connection', async () => {
    const query = 'add observations to an entity in the knowledge graph';
    const first = await selectTools(gateway.client, { query });
    expect(first.tools.length).toBeGreaterThan(0);
    const second = await selectTools(gateway.client, { query });
    expect(second.tools).toEqual([]);
    expect(second.unchanged.map((entry) => entry.name)).toEqual(first.tools.map((tool) => tool.name));
  });

  it('holds the limit, and takes the default limit from the profile', async () => {
    const query = 'read write list search move files and directories on disk';
    const two = await selectTools(gateway.client, { query, limit: 2, sessionId: newSession('limit') });
    expect(names(two)).toHaveLength(2);
    const one = await selectTools(gateway.client, { query, limit: 1, sessionId: newSession('limit') });
    expect(names(one)).toHaveLength(1);
    const ten = await selectTools(gateway.client, { query, limit: 10, sessionId: newSession('limit') });
    expect(names(ten)).toHaveLength(10);
    const byProfile = await selectTools(gateway.client, { query, sessionId: newSession('limit') });
    expect(names(byProfile)).toHaveLength(DEFAULT_LIMIT);
    expect(new Set(names(ten)).size).toBe(10);
  });

  it('reports the same etag to repeated calls and counts what the caller can see', async () => {
    const a = await selectTools(gateway.client, { query: 'echo a message', sessionId: newSession('etag') });
    const b = await selectTools(gateway.client, { query: 'create a directory', sessionId: newSession('etag') });
    expect(a.etag).toBe(b.etag);
    expect(a.totalAvailable).toBe(b.totalAvailable);
    expect(a.totalAvailable).toBeGreaterThan(20);
    const all = await selectTools(gateway.client, {
      query: 'file memory entity echo sum image resource',
      limit: 50,
      sessionId: newSession('etag'),
    });
    expect(names(all).length).toBeLessThanOrEqual(a.totalAvailable);
  });

  it.each([
    ['a blank query', { query: '   ' }],
    ['an empty query', { query: '' }],
    ['no query', {}],
    ['a query over 4000 characters', { query: 'x'.repeat(4001) }],
    ['limit 0', { query: 'read a file', limit: 0 }],
    ['limit 51', { query: 'read a file', limit: 51 }],
    ['a fractional limit', { query: 'read a file', limit: 2.5 }],
    ['a sessionId with spaces', { query: 'read a file', sessionId: 'not valid!' }],
    ['a sessionId over 128 characters', { query: 'read a file', sessionId: 'a'.repeat(129) }],
    ['an unknown field', { query: 'read a file', extra: true }],
  ])('rejects %s with INVALID_INPUT', async (_label, args) => {
    const result = await gateway.client.callTool({ name: 'automatic_mcp', arguments: args });
    const payload = errorPayload(result as Parameters<typeof errorPayload>[0]);
    expect(payload.error.code).toBe('INVALID_INPUT');
    expect(payload.error.message.length).toBeGreaterThan(0);
  });

  it('accepts a query that is only long because of surrounding whitespace', async () => {
    const output = await selectTools(gateway.client, {
      query: `  read a text file${' '.repeat(4100)}`,
      sessionId: newSession('trim'),
    });
    expect(output.tools.length).toBeGreaterThan(0);
  });
});

describe('automatic_eval against real servers', () => {
  it('creates then reads a memory entity, with structuredContent from the memory server', async () => {
    const name = `AutomcpIntegration_${Date.now()}`;
    const created = await evalTool(gateway.client, 'memory.create_entities', {
      entities: [{ name, entityType: 'test', observations: ['written through automatic_eval'] }],
    });
    expect(created.isError).toBeFalsy();

    const opened = await evalTool(gateway.client, 'memory.open_nodes', { names: [name] });
    expect(opened.isError).toBeFalsy();
    expect(opened.structuredContent).toMatchObject({
      entities: [{ name, entityType: 'test', observations: ['written through automatic_eval'] }],
    });

    const searched = await evalTool(gateway.client, 'memory.search_nodes', { query: name });
    expect(searched.isError).toBeFalsy();
    const entities = (searched.structuredContent as { entities?: { name: string }[] } | undefined)?.entities ?? [];
    expect(entities.map((entity) => entity.name)).toContain(name);

    // The memory server wrote where the config told it to (a temp file, never the repo).
    expect(await readFile(memoryFile, 'utf8')).toContain(name);
  });

  it('writes then reads a file through the filesystem server', async () => {
    const path = join(filesDir, 'written-by-eval.txt');
    const content = 'hello from automatic_eval\nsecond line\n';
    const written = await evalTool(gateway.client, 'filesystem.write_file', { path, content });
    expect(written.isError).toBeFalsy();
    expect(await readFile(path, 'utf8')).toBe(content);

    const read = await evalTool(gateway.client, 'filesystem.read_text_file', { path });
    expect(read.isError).toBeFalsy();
    expect(firstText(read)).toBe(content);
  });

  it('passes downstream structuredContent and content through unchanged', async () => {
    const result = await evalTool(gateway.client, 'everything.get-structured-content', { location: 'Chicago' });
    const weather = { temperature: 36, conditions: 'Light rain / drizzle', humidity: 82 };
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual(weather);
    expect(result.content).toEqual([{ type: 'text', text: JSON.stringify(weather) }]);
    for (const key of Object.keys(result._meta ?? {})) expect(key.startsWith('automcp/')).toBe(true);
  });

  it('forwards progress notifications when the request carries a progress token', async () => {
    const progress: Progress[] = [];
    const result = await evalTool(
      gateway.client,
      'everything.trigger-long-running-operation',
      { duration: 0.6, steps: 3 },
      { onprogress: (update) => progress.push(update) },
    );
    expect(result.isError).toBeFalsy();
    // Steps 1 and 2 are each followed by a pause, so they must arrive. The last one is written right
    // before the result; the SDK handles notifications a microtask after responses that arrive in the
    // same read, so a final notification can be dropped by any SDK client (the gateway's or ours).
    const values = progress.map((update) => update.progress);
    expect(values.slice(0, 2)).toEqual([1, 2]);
    expect(values.length).toBeLessThanOrEqual(3);
    if (values.length === 3) expect(values[2]).toBe(3);
    expect(progress.every((update) => update.total === 3)).toBe(true);
  });

  it('rejects arguments that fail the inputSchema with INVALID_ARGUMENTS, the schema and the violations', async () => {
    const listed = await selectTools(gateway.client, {
      query: 'read the contents of a text file',
      limit: 10,
      sessionId: newSession('args'),
    });
    const definition = listed.tools.find((tool) => tool.name === 'filesystem.read_text_file');
    expect(definition).toBeDefined();

    for (const args of [{}, { path: 42 }]) {
      const payload = errorPayload(await evalTool(gateway.client, 'filesystem.read_text_file', args));
      expect(payload.error.code).toBe('INVALID_ARGUMENTS');
      expect(payload.tool).toEqual({ name: 'filesystem.read_text_file', inputSchema: definition?.inputSchema });
      expect(Array.isArray(payload.violations)).toBe(true);
      expect((payload.violations as unknown[]).length).toBeGreaterThan(0);
      expect(JSON.stringify(payload.violations)).toContain('path');
    }

    const enumPayload = errorPayload(await evalTool(gateway.client, 'everything.get-structured-content', { location: 'Paris' }));
    expect(enumPayload.error.code).toBe('INVALID_ARGUMENTS');
    expect((enumPayload.tool as { name: string }).name).toBe('everything.get-structured-content');
  });

  it('answers a misspelled name with TOOL_NOT_FOUND and close suggestions', async () => {
    const payload = errorPayload(
      await evalTool(gateway.client, 'filesystem.read_txt_file', { path: join(filesDir, 'notes.txt') }),
    );
    expect(payload.error.code).toBe('TOOL_NOT_FOUND');
    const didYouMean = payload.didYouMean as string[];
    expect(Array.isArray(didYouMean)).toBe(true);
    expect(didYouMean.length).toBeGreaterThan(0);
    expect(didYouMean.length).toBeLessThanOrEqual(3);
    expect(didYouMean).toContain('filesystem.read_text_file');

    const unknown = errorPayload(await evalTool(gateway.client, 'nosuchserver.nothing_here', {}));
    expect(unknown.error.code).toBe('TOOL_NOT_FOUND');
    expect(Array.isArray(unknown.didYouMean)).toBe(true);
    expect((unknown.didYouMean as string[]).length).toBeLessThanOrEqual(3);
  });

  it('rejects an eval without a toolName, or with non-object arguments, as INVALID_INPUT', async () => {
    const missing = await gateway.client.callTool({ name: 'automatic_eval', arguments: { arguments: {} } });
    expect(errorPayload(missing as Parameters<typeof errorPayload>[0]).error.code).toBe('INVALID_INPUT');
    const notObject = await gateway.client.callTool({
      name: 'automatic_eval',
      arguments: { toolName: 'everything.echo', arguments: ['x'] },
    });
    expect(errorPayload(notObject as Parameters<typeof errorPayload>[0]).error.code).toBe('INVALID_INPUT');
  });
});

describe('the implicit default profile', () => {
  it('hides a denied tool from selection and from eval, without suggesting it', async () => {
    const output = await selectTools(gateway.client, {
      query: 'get the environment variables of the server for debugging its configuration',
      limit: 50,
      sessionId: newSession('deny'),
    });
    expect(names(output)).not.toContain('everything.get-env');
    expect(names(output).length).toBeGreaterThan(0);

    const denied = errorPayload(await evalTool(gateway.client, 'everything.get-env', {}));
    expect(denied.error.code).toBe('TOOL_NOT_FOUND');
    expect(denied.didYouMean).not.toContain('everything.get-env');
    const misspelled = errorPayload(await evalTool(gateway.client, 'everything.get-envs', {}));
    expect(misspelled.error.code).toBe('TOOL_NOT_FOUND');
    expect(misspelled.didYouMean).not.toContain('everything.get-env');
  });
});
