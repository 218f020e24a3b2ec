/**
 * The start-up benchmark: what every MCP client pays when it opens a window, since each one spawns its
 * own `automcp serve`. One run spawns `serve`, sends initialize and `tools/list` and times the answer,
 * then makes one `automatic_mcp` selection and reads the gateway's resident memory (the serve process
 * only; downstream children are not counted). The catalog cache is warmed first in a temporary state
 * directory, so the measured runs start no downstream server — the usual case after the first start.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

/** Options of {@link runStartupBench}. */
export interface StartupBenchOptions {
  /** Measured runs (after one unmeasured run that warms the catalog cache). */
  runs: number;
  /** The `automcp` entry script to spawn (`dist/cli/main.js`); another build can be measured the same way. */
  entry: string;
  /** runtime.yaml (or its folder) handed to `serve --config`. */
  config: string;
  /** How many servers the configuration has: the warm-up waits until each has a cached tool list. */
  servers: number;
  /** The task of the measured selection. */
  query?: string;
  /** Longest wait for one step of one run (default 60 s). */
  timeoutMs?: number;
  /** Resident memory of a process in bytes (default: /proc, else `ps`). */
  readRss?: (pid: number) => Promise<number>;
  onProgress?: (done: number, total: number) => void;
}

/** One measured start. */
export interface StartupRun {
  /** Spawn until the `tools/list` response was read. */
  toolsListMs: number;
  /** The first `automatic_mcp` call, from request to response. */
  selectionMs: number;
  /** Resident memory of the serve process after that selection. */
  rssMB: number;
}

/** Smallest, median and largest of a figure over the runs. */
export interface Spread {
  min: number;
  median: number;
  max: number;
}

/** What {@link runStartupBench} measured. */
export interface StartupReport {
  runs: number;
  entry: string;
  config: string;
  node: string;
  toolsListMs: Spread;
  selectionMs: Spread;
  rssMB: Spread;
  samples: StartupRun[];
}

const DEFAULT_QUERY = 'read a file and remember what it says';

/** Warms the catalog cache once, then measures `runs` cold starts of `serve`. */
export async function runStartupBench(options: StartupBenchOptions): Promise<StartupReport> {
  const state = await mkdtemp(join(tmpdir(), 'automcp-bench-startup-'));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const readRss = options.readRss ?? processRss;
  const samples: StartupRun[] = [];
  try {
    await startOnce({ ...options, state, timeoutMs, readRss, warm: true });
    options.onProgress?.(0, options.runs);
    for (let run = 0; run < options.runs; run += 1) {
      samples.push(await startOnce({ ...options, state, timeoutMs, readRss, warm: false }));
      options.onProgress?.(run + 1, options.runs);
    }
  } finally {
    await rm(state, { recursive: true, force: true });
  }
  return {
    runs: samples.length,
    entry: options.entry,
    config: options.config,
    node: process.version,
    toolsListMs: spread(samples.map((s) => s.toolsListMs)),
    selectionMs: spread(samples.map((s) => s.selectionMs)),
    rssMB: spread(samples.map((s) => s.rssMB)),
    samples,
  };
}

/** Min, median (the lower middle value for an even count) and max. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { min: 0, median: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor((sorted.length - 1) / 2)]!, max: sorted[sorted.length - 1]! };
}

async function startOnce(
  options: StartupBenchOptions & {
    state: string;
    timeoutMs: number;
    readRss: (pid: number) => Promise<number>;
    warm: boolean;
  },
): Promise<StartupRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [options.entry, 'serve', '--config', options.config], {
    // The state directory comes from XDG_STATE_HOME unless runtime.yaml names its own `stateDir`.
    env: { ...process.env, XDG_STATE_HOME: options.state, AUTOMCP_PROFILE: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const rpc = lineRpc(child, options.timeoutMs);
  try {
    await rpc.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'automcp-bench', version: '0.0.0' },
    });
    rpc.notify('notifications/initialized');
    await rpc.request('tools/list', {});
    const toolsListMs = performance.now() - started;
    const selecting = performance.now();
    const selection = await rpc.request('tools/call', {
      name: 'automatic_mcp',
      arguments: { query: options.query ?? DEFAULT_QUERY },
    });
    const selectionMs = performance.now() - selecting;
    if ((selection as { isError?: boolean }).isError) throw new Error(`automatic_mcp failed: ${JSON.stringify(selection)}`);
    const rssMB = (await options.readRss(child.pid!)) / (1024 * 1024);
    // The warm-up run starts every server; it is done once each one's tool list is in the cache.
    if (options.warm) await waitForCache(join(options.state, 'automcp', 'catalog'), options.servers, options.timeoutMs);
    return { toolsListMs, selectionMs, rssMB };
  } catch (error) {
    throw new Error(`${(error as Error).message}\nserve's stderr:\n${rpc.stderr().slice(-2000)}`, { cause: error });
  } finally {
    await rpc.stop();
  }
}

async function waitForCache(dir: string, servers: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const files = await readdir(dir).catch(() => [] as string[]);
    if (files.filter((file) => file.endsWith('.json')).length >= servers) return;
    if (performance.now() > deadline) throw new Error(`the catalog cache in ${dir} did not fill within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resident set size of `pid` in bytes: VmRSS from /proc on Linux, else `ps -o rss=`. */
export async function processRss(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    if (kb !== undefined) return Number(kb) * 1024;
  } catch {
    // No /proc (macOS): ask ps.
  }
  const { stdout } = await promisify(execFile)('ps', ['-o', 'rss=', '-p', String(pid)]);
  return Number(stdout.trim()) * 1024;
}

interface LineRpc {
  request(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>>;
  notify(method: string): void;
  stderr(): string;
  stop(): Promise<void>;
}

/** A minimal JSON-RPC client on a child's stdio: no SDK in between, so only the child's work is timed. */
function lineRpc(child: ChildProcessWithoutNullStreams, timeoutMs: number): LineRpc {
  let nextId = 1;
  let buffer = '';
  let stderr = '';
  const pending = new Map<number, { resolve: (result: Record<string, unknown>) => void; reject: (error: Error) => void }>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    for (const { reject } of pending.values()) reject(new Error(`serve exited (code ${code}, signal ${signal})`));
    pending.clear();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const message = JSON.parse(line) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
      const waiter = message.id !== undefined ? pending.get(message.id) : undefined;
      if (!waiter) continue;
      pending.delete(message.id!);
      if (message.error) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result ?? {});
    }
  });
  const write = (message: Record<string, unknown>) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  return {
    request(method, params) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to ${method} within ${timeoutMs} ms`)), timeoutMs);
        pending.set(id, {
          resolve: (result) => (clearTimeout(timer), resolve(result)),
          reject: (error) => (clearTimeout(timer), reject(error)),
        });
        write({ id, method, params });
      });
    },
    notify: (method) => void write({ method }),
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // Closing stdin is how a client leaves; the gateway stops its children and exits.
        child.stdin.end();
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
}
