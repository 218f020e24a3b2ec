/**
 * The overhead benchmark: the same tool on the same kind of stdio server, called directly by an MCP
 * client and through automcp's `automatic_eval` (an MCP client on an in-memory upstream connection,
 * so what is measured is the gateway itself: its MCP server, profile check, argument validation and
 * forwarding). Calls alternate between the two paths so drift in machine load hits both alike.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { parseRuntime } from '../config/load.js';
import { profileSchema } from '../config/schema.js';
import { createGateway } from '../gateway/create.js';
import { percentile } from './metrics.js';

/** A stdio server to call. */
export interface StdioServer {
  command: string;
  args: string[];
}

/** Options of {@link runOverheadBench}. */
export interface OverheadBenchOptions {
  calls: number;
  warmup: number;
  tool: string;
  arguments: Record<string, unknown>;
  /** Default: the bundled @modelcontextprotocol/server-everything on stdio. */
  server?: StdioServer;
  onProgress?: (done: number, total: number) => void;
}

/** Latencies of both paths, in milliseconds, and the gateway's share. */
export interface OverheadReport {
  calls: number;
  tool: string;
  server: string;
  direct: { p50: number; p95: number };
  gateway: { p50: number; p95: number };
  ratio: { p50: number; p95: number };
}

const SERVER = 'bench';

/** The bundled reference server, run with this Node.js. */
export function everythingServer(): StdioServer {
  const manifest = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json');
  return { command: process.execPath, args: [join(dirname(manifest), 'dist', 'index.js'), 'stdio'] };
}

/** Runs `calls` alternating pairs of direct and gateway calls after `warmup` unmeasured pairs. */
export async function runOverheadBench(options: OverheadBenchOptions): Promise<OverheadReport> {
  const server = options.server ?? everythingServer();
  const config = parseRuntime({
    file: join(process.cwd(), 'bench-runtime.yaml'),
    text: JSON.stringify({ version: 1, servers: { [SERVER]: server }, logging: { level: 'silent' } }),
  });
  const gateway = await createGateway({ config });
  const upstream = new Client({ name: 'automcp-bench', version: '0.0.0' });
  const direct = new Client({ name: 'automcp-bench', version: '0.0.0' });
  try {
    await gateway.start();
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await gateway.connect({ transport: serverSide, profile: { ...profileSchema.parse({}), name: 'default' } });
    await upstream.connect(clientSide);
    await direct.connect(
      new StdioClientTransport({ command: server.command, args: server.args, env: getDefaultEnvironment(), stderr: 'ignore' }),
    );
    const viaGateway = async () =>
      check(
        (await upstream.callTool({
          name: 'automatic_eval',
          arguments: { toolName: `${SERVER}.${options.tool}`, arguments: options.arguments },
        })) as CallToolResult,
        'through automcp',
      );
    const straight = async () =>
      check((await direct.callTool({ name: options.tool, arguments: options.arguments })) as CallToolResult, 'direct');

    const times = { direct: [] as number[], gateway: [] as number[] };
    const total = options.warmup + options.calls;
    for (let i = 0; i < total; i++) {
      // Alternate which path goes first, so neither always runs on a warmer cache.
      const order = i % 2 === 0 ? (['direct', 'gateway'] as const) : (['gateway', 'direct'] as const);
      for (const path of order) {
        const started = performance.now();
        await (path === 'direct' ? straight() : viaGateway());
        if (i >= options.warmup) times[path].push(performance.now() - started);
      }
      options.onProgress?.(i + 1, total);
    }
    const summary = (values: number[]) => ({ p50: percentile(values, 50), p95: percentile(values, 95) });
    const d = summary(times.direct);
    const g = summary(times.gateway);
    return {
      calls: options.calls,
      tool: options.tool,
      server: [server.command, ...server.args].join(' '),
      direct: d,
      gateway: g,
      ratio: { p50: g.p50 / d.p50, p95: g.p95 / d.p95 },
    };
  } finally {
    await Promise.allSettled([upstream.close(), direct.close()]);
    await gateway.close();
  }
}

function check(result: CallToolResult, path: string): void {
  if (result.isError) {
    const text = result.content.map((block) => (block.type === 'text' ? block.text : '')).join(' ');
    throw new Error(`the ${path} call failed: ${text}`);
  }
}
