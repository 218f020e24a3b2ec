/**
 * `selection.output`: a profile receives `automatic_mcp` results in one form only, and its connection's
 * tools/list declares what that form needs (an outputSchema exactly when structuredContent comes back).
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { AutomaticMcpOutput } from '../../src/gateway/core.js';
import { selectionSummary } from '../../src/gateway/selectionOutput.js';
import {
  callTool,
  FakeDownstream,
  makeProfile,
  runtimeFor,
  startInProcessGateway,
  textOf,
  toolDefinition,
  type InProcessGateway,
} from '../helpers/inprocess.js';

const ok = (text: string): CallToolResult => ({ content: [{ type: 'text', text }] });

let running: InProcessGateway | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(): Promise<InProcessGateway> {
  const files = new FakeDownstream('files', [
    { definition: toolDefinition('read_text_file', 'Read the complete contents of a text file.'), handler: () => ok('text') },
    { definition: toolDefinition('read_media_file', 'Read an image or audio file.'), handler: () => ok('media') },
    { definition: toolDefinition('write_file', 'Write text content to a file.'), handler: () => ok('written') },
  ]);
  running = await startInProcessGateway({
    servers: [files],
    config: runtimeFor([{ name: 'files', description: 'Local files' }]),
  });
  return running;
}

/** Connects with `selection.output: form`, reads tools/list (so the SDK client checks results against it), selects twice. */
async function selectTwice(form?: 'both' | 'structured' | 'text') {
  const gw = await start();
  const client = await gw.connect(makeProfile('reader', form ? { selection: { output: form } } : {}));
  const { tools } = await client.listTools();
  const first = await callTool(client, 'automatic_mcp', { query: 'read a text file', limit: 2 });
  const second = await callTool(client, 'automatic_mcp', { query: 'read a text file', limit: 2 });
  return { tools, first, second };
}

describe('selection.output', () => {
  it('both (the default): structuredContent, mirrored as JSON in one text block', async () => {
    const { tools, first } = await selectTwice();
    expect(tools[0]!.outputSchema).toBeDefined();
    expect(first.content).toHaveLength(1);
    expect(JSON.parse(textOf(first))).toEqual(first.structuredContent);
  });

  it('structured: structuredContent and a one-line summary that names the tools but holds no definition', async () => {
    const { tools, first, second } = await selectTwice('structured');
    expect(tools[0]!.outputSchema).toBeDefined();
    const output = first.structuredContent as AutomaticMcpOutput;
    expect(output.tools.map((tool) => tool.name)).toEqual(['files.read_text_file', 'files.read_media_file']);
    expect(first.content).toHaveLength(1);
    const text = textOf(first);
    expect(text).toBe(selectionSummary(output));
    expect(text).not.toContain('\n');
    expect(text).toContain('files.read_text_file, files.read_media_file');
    expect(text).not.toContain('Read the complete contents');
    expect(text).not.toContain('inputSchema');
    expect(text).toContain(output.runId);
    // A repeated selection: the summary says the tools were already sent.
    expect(textOf(second)).toMatch(/^0 tools with full definitions in structuredContent\.tools; 2 already sent/);
  });

  it('text: the JSON in one text block, no structuredContent, and no outputSchema declared for it', async () => {
    const { tools, first, second } = await selectTwice('text');
    expect(tools.map((tool) => tool.name)).toEqual(['automatic_mcp', 'automatic_eval']);
    expect(tools[0]!.outputSchema).toBeUndefined();
    expect(tools[0]!.inputSchema.required).toEqual(['query']);
    expect(first.structuredContent).toBeUndefined();
    expect(first.content).toHaveLength(1);
    const output = JSON.parse(textOf(first)) as AutomaticMcpOutput;
    expect(output.tools.map((tool) => tool.name)).toEqual(['files.read_text_file', 'files.read_media_file']);
    // Sessions work as in the other forms: the second time, names and hashes only.
    const repeat = JSON.parse(textOf(second)) as AutomaticMcpOutput;
    expect(repeat.tools).toEqual([]);
    expect(repeat.unchanged.map((tool) => tool.name)).toEqual(['files.read_text_file', 'files.read_media_file']);
  });

  it('each connection gets the list of its own profile', async () => {
    const gw = await start();
    const text = await gw.connect(makeProfile('plain', { selection: { output: 'text' } }));
    const both = await gw.connect(makeProfile('default'));
    expect((await text.listTools()).tools[0]!.outputSchema).toBeUndefined();
    expect((await both.listTools()).tools[0]!.outputSchema).toBeDefined();
  });
});

describe('selectionSummary', () => {
  const output = (count: number, unchanged = 0): AutomaticMcpOutput => ({
    runId: 'r_1',
    mode: 'lexical',
    etag: 'e',
    tools: Array.from({ length: count }, (_, i) => ({
      name: `s.t${i}`,
      description: '',
      inputSchema: { type: 'object' },
      hash: 'h',
    })),
    unchanged: Array.from({ length: unchanged }, (_, i) => ({ name: `s.u${i}`, hash: 'h' })),
    totalAvailable: 40,
  });

  it('says where the definitions are, names at most ten tools, and counts the rest', () => {
    expect(selectionSummary(output(1))).toBe(
      '1 tool with full definitions in structuredContent.tools: s.t0. 40 available (run r_1, lexical).',
    );
    expect(selectionSummary(output(12, 1))).toBe(
      '12 tools with full definitions in structuredContent.tools: s.t0, s.t1, s.t2, s.t3, s.t4, s.t5, s.t6, s.t7, s.t8, s.t9 and 2 more; ' +
        '1 already sent, by name and hash in structuredContent.unchanged: s.u0. 40 available (run r_1, lexical).',
    );
  });
});
