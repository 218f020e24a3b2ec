/**
 * A load benchmark for `automcp serve --http`: N concurrent MCP clients share a number of calls that
 * mix automatic_mcp and automatic_eval over the servers of the bundled runtime.yaml (everything,
 * memory, filesystem). It reports throughput, latency percentiles, errors, and the gateway's resident
 * memory as its own /metrics states it. Figures, not assertions: the tests never judge speed.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** One call of the mix. */
export interface LoadCall {
  tool: 'automatic_mcp' | 'automatic_eval';
  arguments: Record<string, unknown>;
}

/** The default mix: three selections and five runs across the three demo servers, in turn. */
export function demoMix(index: number): LoadCall {
  const mix: LoadCall[] = [
    { tool: 'automatic_mcp', arguments: { query: 'remember facts about a person in the knowledge graph' } },
    { tool: 'automatic_eval', arguments: { toolName: 'everything.get-sum', arguments: { a: index, b: 1 } } },
    { tool: 'automatic_mcp', arguments: { query: 'read a text file from the notes folder' } },
    { tool: 'automatic_eval', arguments: { toolName: 'everything.echo', arguments: { message: `call ${index}` } } },
    { tool: 'automatic_eval', arguments: { toolName: 'memory.search_nodes', arguments: { query: 'Ada' } } },
    { tool: 'automatic_mcp', arguments: { query: 'add two numbers' } },
    { tool: 'automatic_eval', arguments: { toolName: 'filesystem.list_allowed_directories', arguments: {} } },
    { tool: 'automatic_eval', arguments: { toolName: 'everything.get-sum', arguments: { a: 1, b: index } } },
  ];
  return mix[index % mix.length]!;
}

/** Latency figures in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** What a load run measured. */
export interface LoadReport {
  url: string;
  clients: number;
  calls: number;
  errors: number;
  /** Up to five error messages, to see what failed. */
  errorSamples: string[];
  durationMs: number;
  callsPerSecond: number;
  latency: LatencySummary;
  byTool: Record<LoadCall['tool'], LatencySummary>;
  /** The gateway's process_resident_memory_bytes before and after the run (undefined when /metrics is unreachable). */
  rssBeforeBytes?: number;
  rssAfterBytes?: number;
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** The MCP endpoint, e.g. http://127.0.0.1:8931/mcp; /metrics is read from the same origin. */
  url: string;
  clients: number;
  calls: number;
  /** Bearer token of a caller, when the gateway has callers. */
  token?: string;
  mix?: (index: number) => LoadCall;
}

/** Runs the benchmark. Clients connect first; the clock runs only while calls are made. */
export async function runLoad({ url, clients, calls, token, mix = demoMix }: LoadOptions): Promise<LoadReport> {
  const endpoint = new URL(url);
  const headers: Record<string, string> = token !== undefined ? { Authorization: `Bearer ${token}` } : {};
  const rssBeforeBytes = await readRss(endpoint, headers);
  const transports: StreamableHTTPClientTransport[] = [];
  const connected = await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = new Client({ name: 'automcp-bench-load', version: '0.0.0' }, { capabilities: {} });
      const transport = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers } });
      transports.push(transport);
      await client.connect(transport);
      return client;
    }),
  );
  const latencies: Record<LoadCall['tool'], number[]> = { automatic_mcp: [], automatic_eval: [] };
  const errorSamples: string[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  try {
    // Each client takes the next call as soon as its previous one is answered, until all are made.
    await Promise.all(
      connected.map(async (client) => {
        for (let index = next++; index < calls; index = next++) {
          const call = mix(index);
          const begun = performance.now();
          try {
            const result = (await client.callTool({ name: call.tool, arguments: call.arguments })) as CallToolResult;
            if (result.isError) throw new Error(JSON.stringify(result.content).slice(0, 300));
          } catch (error) {
            errors++;
            if (errorSamples.length < 5) errorSamples.push(`${call.tool}: ${(error as Error).message}`);
          }
          latencies[call.tool].push(performance.now() - begun);
        }
      }),
    );
  } finally {
    // End the MCP sessions (DELETE) rather than leave them to the gateway's idle cleanup.
    await Promise.allSettled(transports.map((transport) => transport.terminateSession()));
    await Promise.allSettled(connected.map((client) => client.close()));
  }
  const durationMs = performance.now() - started;
  const rssAfterBytes = await readRss(endpoint, headers);
  return {
    url,
    clients,
    calls,
    errors,
    errorSamples,
    durationMs,
    callsPerSecond: (calls / durationMs) * 1000,
    latency: summarize([...latencies.automatic_mcp, ...latencies.automatic_eval]),
    byTool: { automatic_mcp: summarize(latencies.automatic_mcp), automatic_eval: summarize(latencies.automatic_eval) },
    ...(rssBeforeBytes !== undefined ? { rssBeforeBytes } : {}),
    ...(rssAfterBytes !== undefined ? { rssAfterBytes } : {}),
  };
}

/** Nearest-rank percentiles of `values` (milliseconds). */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    p50: rank(50),
    p99: rank(99),
    max: sorted.at(-1) ?? 0,
    mean: sorted.length ? total / sorted.length : 0,
  };
}

async function readRss(endpoint: URL, headers: Record<string, string>): Promise<number | undefined> {
  try {
    const response = await fetch(new URL('/metrics', endpoint), { headers });
    if (!response.ok) return undefined;
    const line = (await response.text()).split('\n').find((entry) => entry.startsWith('process_resident_memory_bytes '));
    return line ? Number(line.split(' ')[1]) : undefined;
  } catch {
    return undefined;
  }
}
