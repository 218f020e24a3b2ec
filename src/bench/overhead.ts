/**
 * The overhead benchmark: one tool on one stdio server, called by an MCP client over real stdio four
 * ways — directly; through a bare line relay (a process that only parses and re-writes each JSON-RPC
 * line: the floor of any process gateway); through a plain proxy built from the SDK's `Server` and
 * `Client` (what most TypeScript gateways are: the peer); and through `automcp serve` as a client's
 * config starts it, by `automatic_eval`. Other automcp builds can join the same run, and an in-memory
 * upstream connection to an in-process gateway is kept as an extra line. Each path has its own client
 * and processes; calls rotate between the paths so drift in machine load hits all of them alike.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { parseRuntime } from '../config/load.js';
import { profileSchema } from '../config/schema.js';
import { createGateway, type Gateway } from '../gateway/create.js';
import { percentile } from './metrics.js';

/** A stdio server to call. */
export interface StdioServer {
  command: string;
  args: string[];
}

/** Another automcp build to measure in the same run: its `dist/cli/main.js`. */
export interface AutomcpBuild {
  label: string;
  main: string;
}

/** Options of {@link runOverheadBench}. */
export interface OverheadBenchOptions {
  calls: number;
  warmup: number;
  tool: string;
  arguments: Record<string, unknown>;
  /** Default: the bundled @modelcontextprotocol/server-everything on stdio. */
  server?: StdioServer;
  /** More automcp builds, measured like this one. */
  builds?: AutomcpBuild[];
  onProgress?: (done: number, total: number) => void;
}

/** One path's latencies, in milliseconds. */
export interface PathLatency {
  /** direct, relay, sdk-proxy, automcp, automcp:<label> or in-memory. */
  path: string;
  description: string;
  p50: number;
  p95: number;
  /** p50 minus the direct call's p50: what this path adds (0 for the direct path). */
  addedP50: number;
}

/** The run's figures. */
export interface OverheadReport {
  calls: number;
  tool: string;
  server: string;
  paths: PathLatency[];
}

/** One way to make the call, and how to end it. */
interface BenchPath {
  path: string;
  description: string;
  call: () => Promise<void>;
  close: () => Promise<unknown>;
}

/** The bundled reference server, run with this Node.js. */
export function everythingServer(): StdioServer {
  const manifest = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json');
  return { command: process.execPath, args: [join(dirname(manifest), 'dist', 'index.js'), 'stdio'] };
}

/** This build's CLI folder: its main.js and the relay and proxy processes the bench spawns. */
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli');
const THIS_BUILD = join(CLI, 'main.js');

/** Runs `calls` measured rounds over every path after `warmup` unmeasured rounds. */
export async function runOverheadBench(options: OverheadBenchOptions): Promise<OverheadReport> {
  const defaultServer = options.server === undefined;
  const server = options.server ?? everythingServer();
  // The downstream server's name in automcp: `everything.echo` for the bundled server.
  const name = defaultServer ? 'everything' : 'bench';
  const qualified = `${name}.${options.tool}`;
  const dir = await mkdtemp(join(tmpdir(), 'automcp-bench-overhead-'));
  const paths: BenchPath[] = [];
  let gateway: Gateway | undefined;
  try {
    // What a client's config starts: the default logging, a state directory of its own.
    const runtime = { version: 1, stateDir: join(dir, 'state'), servers: { [name]: server } };
    const configFile = join(dir, 'runtime.yaml');
    await writeFile(configFile, JSON.stringify(runtime));

    const direct = { name: options.tool, arguments: options.arguments };
    const viaEval = { name: 'automatic_eval', arguments: { toolName: qualified, arguments: options.arguments } };
    paths.push(await stdioPath('direct', 'MCP client → server', server, direct));
    paths.push(
      await stdioPath('relay', 'a process that parses and re-writes each line', node(join(CLI, 'benchRelay.js'), server), direct),
    );
    paths.push(
      await stdioPath(
        'sdk-proxy',
        'SDK Server + Client forwarding tools/call',
        node(join(CLI, 'benchSdkProxy.js'), server),
        direct,
      ),
    );
    paths.push(
      await stdioPath('automcp', `automcp serve, automatic_eval → ${qualified}`, serve(THIS_BUILD, configFile), viaEval),
    );
    for (const build of options.builds ?? []) {
      paths.push(await stdioPath(`automcp:${build.label}`, `${build.main} serve`, serve(build.main, configFile), viaEval));
    }

    // The in-process gateway over an in-memory upstream: no upstream process hop, which no user has.
    const config = parseRuntime({
      file: join(dir, 'bench-runtime.yaml'),
      text: JSON.stringify({ version: 1, servers: { [name]: server }, logging: { level: 'silent' } }),
    });
    gateway = await createGateway({ config });
    await gateway.start();
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await gateway.connect({ transport: serverSide, profile: { ...profileSchema.parse({}), name: 'default' } });
    const inMemory = new Client({ name: 'automcp-bench', version: '0.0.0' });
    await inMemory.connect(clientSide);
    paths.push({
      path: 'in-memory',
      description: 'automatic_eval on an in-process gateway, in-memory upstream',
      call: async () => check((await inMemory.callTool(viaEval)) as CallToolResult, 'in-memory'),
      close: () => inMemory.close(),
    });

    const times = new Map<string, number[]>(paths.map((path) => [path.path, []]));
    const total = options.warmup + options.calls;
    for (let i = 0; i < total; i++) {
      // Rotate which path goes first, so none always runs on a warmer cache.
      for (let j = 0; j < paths.length; j++) {
        const path = paths[(i + j) % paths.length]!;
        const started = performance.now();
        await path.call();
        if (i >= options.warmup) times.get(path.path)!.push(performance.now() - started);
      }
      options.onProgress?.(i + 1, total);
    }
    const directP50 = percentile(times.get('direct')!, 50);
    return {
      calls: options.calls,
      tool: options.tool,
      server: [server.command, ...server.args].join(' '),
      paths: paths.map((path) => {
        const values = times.get(path.path)!;
        const p50 = percentile(values, 50);
        return { path: path.path, description: path.description, p50, p95: percentile(values, 95), addedP50: p50 - directP50 };
      }),
    };
  } finally {
    await Promise.allSettled(paths.map((path) => path.close()));
    await gateway?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** `node script command args...`: a helper process in front of `server`. */
function node(script: string, server: StdioServer): StdioServer {
  return { command: process.execPath, args: [script, server.command, ...server.args] };
}

/** `automcp serve` of the build at `main` on `configFile`. */
function serve(main: string, configFile: string): StdioServer {
  return { command: process.execPath, args: [main, 'serve', '--config', configFile] };
}

/** A client connected over stdio to `target`, making `request` on every call. */
async function stdioPath(
  path: string,
  description: string,
  target: StdioServer,
  request: { name: string; arguments: Record<string, unknown> },
): Promise<BenchPath> {
  const client = new Client({ name: 'automcp-bench', version: '0.0.0' });
  await client.connect(
    new StdioClientTransport({ command: target.command, args: target.args, env: getDefaultEnvironment(), stderr: 'ignore' }),
  );
  return {
    path,
    description,
    call: async () => check((await client.callTool(request)) as CallToolResult, path),
    close: () => client.close(),
  };
}

function check(result: CallToolResult, path: string): void {
  if (result.isError) {
    const text = result.content.map((block) => (block.type === 'text' ? block.text : '')).join(' ');
    throw new Error(`the ${path} call failed: ${text}`);
  }
}
