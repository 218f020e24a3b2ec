/**
 * The gateway as a LangChain agent sees it: `automcp serve` spawned by LangChain's own MCP adapter
 * (`@langchain/mcp-adapters`, MultiServerMCPClient over stdio), with the tools called as an agent's tool
 * node calls them. The adapter merges `structuredContent` and `_meta` into the tool message it hands the
 * model, so what the model reads is measured on that message: its content as a string, or as the JSON a
 * provider is sent when it is a list of blocks.
 *
 * The downstream servers and the first query are the demo's, so the figures printed compare with it.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ToolMessage } from '@langchain/core/messages';
import type { DynamicStructuredTool } from '@langchain/core/tools';
import { MultiServerMCPClient } from '@langchain/mcp-adapters';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AutomaticMcpOutput } from '../src/gateway/core.js';
import { countTokens } from '../src/tokens/count.js';
import {
  CLI_PATH,
  REPO_ROOT,
  everythingServer,
  filesystemServer,
  makeTempDir,
  makeTempStateDir,
  memoryServer,
  writeConfigDir,
  type TempConfig,
} from './helpers/config.js';

const QUERY = 'remember facts about Ada Lovelace in the knowledge graph';
const FORMS = ['both', 'structured', 'text'] as const;
type Form = (typeof FORMS)[number];

let tmp: string;
let config: TempConfig;
let state: { dir: string; cleanup(): void };

beforeAll(async () => {
  tmp = await makeTempDir('automcp-langchain-');
  state = makeTempStateDir();
  const general = { description: 'A general assistant that may use every configured tool.', tools: { allow: ['*'] } };
  config = await writeConfigDir({
    dir: join(tmp, 'config'),
    runtime: {
      servers: {
        filesystem: filesystemServer(join(REPO_ROOT, 'demo', 'files'), {
          description: 'Read, write, search and list files and folders on the local disk',
        }),
        memory: memoryServer(join(tmp, 'memory.jsonl'), {
          description:
            'Knowledge-graph memory that remembers people, things and facts about them as entities, relations and observations',
        }),
        everything: everythingServer({
          description: 'MCP reference server exercising every protocol feature (echo, sums, long-running operations)',
        }),
      },
    },
    profiles: {
      ...Object.fromEntries(FORMS.map((form) => [form, { ...general, selection: { limit: 8, output: form } }])),
      // How every eval result looked before: the gateway's own _meta added.
      traced: { ...general, eval: { meta: true } },
    },
  });
}, 60_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
  state?.cleanup();
});

/** Spawns `automcp serve --profile P` through the adapter, hands its tools to `use`, and closes it. */
async function withAdapter<T>(profile: string, use: (tools: Map<string, DynamicStructuredTool>) => Promise<T>): Promise<T> {
  const client = new MultiServerMCPClient({
    mcpServers: {
      automcp: {
        transport: 'stdio',
        command: process.execPath,
        args: [CLI_PATH, 'serve', '--config', config.dir, '--profile', profile],
        env: { ...getDefaultEnvironment(), XDG_STATE_HOME: state.dir },
        stderr: 'ignore',
      },
    },
  });
  try {
    const tools = await client.getTools();
    return await use(new Map(tools.map((tool) => [tool.name, tool])));
  } finally {
    await client.close();
  }
}

let calls = 0;
/** Calls a tool as an agent's tool node does (a tool call in, a ToolMessage out). */
async function callAsAgent(tools: Map<string, DynamicStructuredTool>, name: string, args: Record<string, unknown>) {
  const tool = tools.get(name);
  if (!tool) throw new Error(`the adapter has no tool ${name}; it has ${[...tools.keys()].join(', ')}`);
  const message: unknown = await tool.invoke({ type: 'tool_call', id: `call_${++calls}`, name, args });
  if (!ToolMessage.isInstance(message)) throw new Error(`expected a ToolMessage, got ${JSON.stringify(message)}`);
  return message;
}

/** What the model is given for a tool message: its text, or its blocks as sent to a provider. */
function modelReads(message: ToolMessage): string {
  return typeof message.content === 'string' ? message.content : JSON.stringify(message.content);
}

/** How many times `needle` occurs in `text`. */
function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('LangChain MCP adapter', () => {
  const read = new Map<Form, { text: string; output: AutomaticMcpOutput }>();

  beforeAll(async () => {
    for (const form of FORMS) {
      await withAdapter(form, async (tools) => {
        const message = await callAsAgent(tools, 'automatic_mcp', { query: QUERY });
        const artifact = (message.artifact ?? []) as { type: string; data?: unknown }[];
        const structured = artifact.find((item) => item.type === 'mcp_structured_content')?.data;
        const text = modelReads(message);
        // The output itself: from structuredContent where there is one, else the JSON text.
        const output = (structured ?? JSON.parse(text)) as AutomaticMcpOutput;
        read.set(form, { text, output });
      });
    }
    const json = JSON.stringify(read.get('text')!.output).length;
    const rows = FORMS.map((form) => {
      const { text } = read.get(form)!;
      return `${form.padEnd(10)} ${String(text.length).padStart(7)} chars ${String(countTokens(text)).padStart(6)} tokens  ×${(text.length / json).toFixed(2)}`;
    });
    console.log(`automatic_mcp "${QUERY}" through @langchain/mcp-adapters (the JSON alone: ${json} chars)\n${rows.join('\n')}`);
  }, 180_000);

  it('selects the same tools in every form', () => {
    const names = FORMS.map((form) => read.get(form)!.output.tools.map((tool) => tool.name));
    expect(names[0]!.length).toBeGreaterThan(0);
    expect(names[0]).toContain('memory.create_entities');
    expect(names[1]).toEqual(names[0]);
    expect(names[2]).toEqual(names[0]);
  });

  it('both: the model reads every definition twice (text and structuredContent)', () => {
    const { text, output } = read.get('both')!;
    for (const tool of output.tools) expect(occurrences(text, tool.hash)).toBe(2);
    expect(text.length).toBeGreaterThan(2 * JSON.stringify(output).length);
  });

  it.each(['structured', 'text'] as const)('%s: the model reads every definition once', (form) => {
    const { text, output } = read.get(form)!;
    for (const tool of output.tools) {
      expect(occurrences(text, tool.hash)).toBe(1);
      expect(occurrences(text, JSON.stringify(tool.description).slice(1, -1))).toBe(1);
    }
    // The JSON once, plus at most a one-line summary and the block's wrapping.
    expect(text.length).toBeLessThan(JSON.stringify(output).length + 1000);
  });

  it('text: the model reads the JSON itself, as a plain string', () => {
    const { text, output } = read.get('text')!;
    expect(JSON.parse(text)).toEqual(output);
  });

  it('an eval result reads exactly as the tool returned it', async () => {
    await withAdapter('both', async (tools) => {
      const message = await callAsAgent(tools, 'automatic_eval', { toolName: 'everything.echo', arguments: { message: 'hi' } });
      expect(message.content).toBe('Echo: hi');
    });
  }, 60_000);

  it('with eval.meta, the gateway’s _meta reaches the model too (why it is off by default)', async () => {
    await withAdapter('traced', async (tools) => {
      const message = await callAsAgent(tools, 'automatic_eval', { toolName: 'everything.echo', arguments: { message: 'hi' } });
      const text = modelReads(message);
      expect(text).toContain('Echo: hi');
      expect(text).toContain('automcp/server');
      console.log(`automatic_eval everything.echo "hi": ${text.length} chars read with eval.meta, 8 without: ${text}`);
    });
  }, 60_000);
});
