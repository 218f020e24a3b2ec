/**
 * The overhead benchmark: the same tool on the same kind of stdio server, called directly by an MCP
 * client and through automcp's `automatic_eval` two ways: by an MCP client on an in-memory upstream
 * connection (the gateway's MCP server, profile check, argument validation and forwarding), and on
 * GatewayCore itself (the gateway's own work without the upstream MCP layer). Calls rotate between the
 * paths so drift in machine load hits all of them alike.
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

/** p50 and p95 of one path, in milliseconds. */
export interface Latency {
  p50: number;
  p95: number;
}

/** Latencies of each path and their ratios to the direct call. */
export interface OverheadReport {
  calls: number;
  tool: string;
  server: string;
  direct: Latency;
  /** `automatic_eval` by an MCP client over an in-memory upstream connection. */
  gateway: Latency;
  /** `GatewayCore.automaticEval` called in-process: the gateway's own work. */
  core: Latency;
  ratio: Latency;
  coreRatio: Latency;
}

const PATHS = ['direct', 'gateway', 'core'] as const;

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
    const profile = { ...profileSchema.parse({}), name: 'default' };
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await gateway.connect({ transport: serverSide, profile });
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
    const context = { caller: 'bench', profile, connectionId: 'bench-core' };
    const viaCore = async () =>
      check(
        await gateway.core.automaticEval({ toolName: `${SERVER}.${options.tool}`, arguments: options.arguments }, context),
        'in-process automatic_eval',
      );
    const run = { direct: straight, gateway: viaGateway, core: viaCore };

    const times = { direct: [] as number[], gateway: [] as number[], core: [] as number[] };
    const total = options.warmup + options.calls;
    for (let i = 0; i < total; i++) {
      // Rotate which path goes first, so none always runs on a warmer cache.
      for (let j = 0; j < PATHS.length; j++) {
        const path = PATHS[(i + j) % PATHS.length]!;
        const started = performance.now();
        await run[path]();
        if (i >= options.warmup) times[path].push(performance.now() - started);
      }
      options.onProgress?.(i + 1, total);
    }
    const summary = (values: number[]) => ({ p50: percentile(values, 50), p95: percentile(values, 95) });
    const [d, g, c] = [summary(times.direct), summary(times.gateway), summary(times.core)];
    return {
      calls: options.calls,
      tool: options.tool,
      server: [server.command, ...server.args].join(' '),
      direct: d,
      gateway: g,
      core: c,
      ratio: { p50: g.p50 / d.p50, p95: g.p95 / d.p95 },
      coreRatio: { p50: c.p50 / d.p50, p95: c.p95 / d.p95 },
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
