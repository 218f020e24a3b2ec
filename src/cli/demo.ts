/**
 * `automcp demo`: the bundled runtime.yaml against the real filesystem, memory and everything servers,
 * driven through a real MCP client over an in-memory transport, with token counts next to each step.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createGateway } from '../gateway/create.js';
import { countJsonTokens, countTokens } from '../tokens/count.js';
import { loadAll } from './context.js';

const BUNDLED = fileURLToPath(new URL('../../runtime.yaml', import.meta.url));
/** The same servers started with `npx`, for an installed package, which has no development dependencies. */
const BUNDLED_NPX = fileURLToPath(new URL('../../demo/runtime.yaml', import.meta.url));
const DEMO_SERVERS = ['server-filesystem', 'server-memory', 'server-everything'].map((name) =>
  fileURLToPath(new URL(`../../node_modules/@modelcontextprotocol/${name}/dist/index.js`, import.meta.url)),
);

/** The bundled runtime.yaml when the demo servers are installed beside automcp (a clone), else the npx one. */
function bundledConfig(): string {
  return DEMO_SERVERS.every((file) => existsSync(file)) ? BUNDLED : BUNDLED_NPX;
}

const tty = process.stdout.isTTY === true;
const paint = (code: string) => (text: string) => (tty ? `\u001b[${code}m${text}\u001b[0m` : text);
const bold = paint('1');
const dim = paint('2');
const cyan = paint('36');
const green = paint('32');
const yellow = paint('33');

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Runs the scripted session; returns the exit code. */
export async function demoCommand(options: { config?: string; verbose?: boolean }): Promise<number> {
  // The memory server keeps its graph in a fresh temporary file: the demo never writes into the repo.
  const scratch = await mkdtemp(join(tmpdir(), 'automcp-demo-'));
  process.env.AUTOMCP_MEMORY_FILE ??= join(scratch, 'memory.jsonl');
  const { config, profile, logger } = await loadAll(
    { config: options.config ?? bundledConfig(), ...(options.verbose ? { verbose: true } : {}) },
    'error',
  );
  const gateway = await createGateway({ config, logger, traces: false });
  const client = new Client({ name: 'automcp-demo', version: '1.0.0' });
  try {
    say(bold('automcp demo') + dim(`  (${config.file})`));
    if (config.file === BUNDLED_NPX) say(dim('The demo servers are not installed beside automcp: npx fetches them from npm.'));
    say(dim('Starting the downstream servers: ') + config.servers.map((server) => server.name).join(', '));
    const status = await gateway.start();
    for (const server of status) {
      say(`  ${server.state === 'up' ? green('up  ') : yellow(server.state)} ${server.name.padEnd(12)} ${server.tools} tools`);
    }
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await gateway.connect({ transport: serverSide, profile, connectionId: 'demo' });
    await client.connect(clientSide);

    const upstream = await client.listTools();
    const catalog = gateway.core.fullCatalog(profile);
    const catalogTokens = countJsonTokens(catalog);
    say();
    say(
      `${bold('Without automcp')} the client would load ${catalog.length} tool definitions: ${bold(String(catalogTokens))} tokens.`,
    );
    say(
      `${bold('With automcp')} it loads ${upstream.tools.length} tools (${upstream.tools.map((t) => t.name).join(', ')}): ${bold(String(countJsonTokens(upstream.tools)))} tokens.`,
    );

    const rows: [string, number][] = [];
    const ask = async (label: string, query: string) => {
      say();
      say(cyan(`▶ automatic_mcp  "${query}"`) + dim(`  (${label})`));
      const result = (await client.callTool({
        name: 'automatic_mcp',
        arguments: { query, sessionId: 'demo-session' },
      })) as CallToolResult;
      // The profile's selection.output decides the wrapping; the JSON is the same in every form.
      const output = (result.structuredContent ?? JSON.parse(textOf(result))) as {
        mode: string;
        tools: { name: string; hash: string }[];
        unchanged: { name: string; hash: string }[];
      };
      for (const tool of output.tools) say(`    full       ${tool.name}  ${dim(tool.hash)}`);
      for (const tool of output.unchanged) say(`    unchanged  ${tool.name}  ${dim(tool.hash)}`);
      const tokens = countJsonTokens(output);
      rows.push([label, tokens]);
      say(dim(`    mode ${output.mode}; response ${tokens} tokens = ${percent(tokens, catalogTokens)} of the full catalog`));
    };
    const run = async (toolName: string, args: Record<string, unknown>) => {
      say();
      say(cyan(`▶ automatic_eval ${toolName}`) + dim(` ${JSON.stringify(args)}`));
      const result = (await client.callTool({
        name: 'automatic_eval',
        arguments: { toolName, arguments: args },
      })) as CallToolResult;
      const text = textOf(result);
      if (result.isError) {
        sayError(text);
        return result;
      }
      const shown = text.length > 400 ? `${text.slice(0, 400)}…` : text;
      say(`    ${green('ok')}  ${shown.split('\n').join('\n        ')}`);
      return result;
    };

    await ask('task 1', 'remember facts about Ada Lovelace in the knowledge graph');
    await ask('task 2', 'read a text file from the notes folder');
    await ask('task 1 again', 'remember facts about Ada Lovelace in the knowledge graph');

    await run('memory.create_entities', {
      entities: [{ name: 'Ada Lovelace', entityType: 'person', observations: ['wrote the first program'] }],
    });
    await run('memory.open_nodes', { names: ['Ada Lovelace'] });
    const files = config.file === BUNDLED_NPX ? join(config.dir, 'files') : join(config.dir, 'demo', 'files');
    await run('filesystem.read_text_file', { path: join(files, 'welcome.md') });
    const bad = await run('memory.create_entities', { entities: 'Ada Lovelace' });

    say();
    say(bold('Tokens per response'));
    say(`    ${'full catalog'.padEnd(16)} ${String(catalogTokens).padStart(6)}`);
    for (const [label, tokens] of rows)
      say(`    ${label.padEnd(16)} ${String(tokens).padStart(6)}  ${percent(tokens, catalogTokens)}`);
    return bad.isError === true ? 0 : 1;
  } finally {
    await client.close().catch(() => undefined);
    await gateway.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** A gateway error, laid out: the code, the violations and the schema that came back to fix the call. */
function sayError(text: string): void {
  let payload: {
    error?: { code?: string; message?: string };
    violations?: { path: string; message: string }[];
    tool?: { inputSchema?: unknown };
  };
  try {
    payload = JSON.parse(text) as typeof payload;
  } catch {
    say(`    ${yellow('isError')}  ${text}`);
    return;
  }
  say(`    ${yellow('isError')}  ${bold(payload.error?.code ?? '?')}: ${payload.error?.message ?? ''}`);
  for (const violation of payload.violations ?? []) say(`        violation ${violation.path}: ${violation.message}`);
  if (payload.tool?.inputSchema) {
    const schema = JSON.stringify(payload.tool.inputSchema);
    say(
      `        inputSchema returned (${countTokens(schema)} tokens): ${dim(schema.length > 160 ? `${schema.slice(0, 160)}…` : schema)}`,
    );
  }
}

function textOf(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join('\n');
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / Math.max(whole, 1)).toFixed(1)}%`;
}
