/**
 * Runs the built gateway as a real process — `node dist/cli/main.js serve --config DIR [--profile P]` —
 * behind the SDK's StdioClientTransport, with its stderr captured, and reads its two tools' results.
 * Callers close what they start in `finally` (or afterAll).
 */
import type { ToolDefinition } from '../../src/catalog/types.js';
import { execFile } from 'node:child_process';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI_PATH, REPO_ROOT, makeTempStateDir } from './config.js';

const run = promisify(execFile);

/** Runs the built CLI as a person would; resolves with its exit code and output whatever the code. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI_PATH, ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** A parsed line of the gateway's JSON log (pino). */
export interface LogLine {
  level: number;
  msg?: string;
  server?: string;
  [key: string]: unknown;
}

/** A running `automcp serve` and a connected client. */
export interface ServedGateway {
  client: Client;
  /** The serve process id. */
  pid: number | null;
  /** Everything the gateway wrote to stderr so far. */
  stderr(): string;
  /** The stderr lines that parse as JSON log records. */
  logLines(): LogLine[];
  /** Resolves once a log line matching `predicate` has been written, or rejects after `timeoutMs`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  close(): Promise<void>;
}

/** Starts `automcp serve` and connects an SDK client to it over stdio. */
export async function serveGateway({
  configDir,
  profile,
  env = {},
  extraArgs = [],
  client: given,
}: {
  /** runtime.yaml or its folder. */
  configDir: string;
  profile?: string;
  env?: Record<string, string>;
  /** More `serve` flags, such as --verbose. */
  extraArgs?: string[];
  /** The SDK client to connect (its capabilities and handlers); by default one that declares none. */
  client?: Client;
}): Promise<ServedGateway> {
  // Hermetic: a gateway never reads or writes the user's state directory (catalog cache, status files).
  const state = env.XDG_STATE_HOME === undefined ? makeTempStateDir() : undefined;
  if (state) env = { ...env, XDG_STATE_HOME: state.dir };
  const args = [CLI_PATH, 'serve', '--config', configDir, ...(profile !== undefined ? ['--profile', profile] : []), ...extraArgs];
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    cwd: REPO_ROOT,
    env: { ...getDefaultEnvironment(), ...env },
    stderr: 'pipe',
  });
  let captured = '';
  (transport.stderr as Readable | null)?.on('data', (chunk: Buffer) => {
    captured += chunk.toString('utf8');
  });
  const client = given ?? new Client({ name: 'automcp-int-test', version: '0.0.0' }, { capabilities: {} });
  const logLines = () => parseLogLines(captured);
  const served: ServedGateway = {
    client,
    get pid() {
      return transport.pid;
    },
    stderr: () => captured,
    logLines,
    async waitForLog(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logLines().find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching log line within ${timeoutMs} ms; stderr was:\n${captured}`);
        await delay(50);
      }
    },
    async close() {
      await client.close();
      state?.cleanup();
    },
  };
  try {
    await client.connect(transport);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new Error(`automcp serve did not start: ${(error as Error).message}\nstderr:\n${captured}`, { cause: error });
  }
  return served;
}

/** JSON log records among stderr lines; other lines are skipped. */
export function parseLogLines(stderr: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as unknown;
      if (parsed !== null && typeof parsed === 'object' && typeof (parsed as LogLine).level === 'number')
        lines.push(parsed as LogLine);
    } catch {
      // not a log record
    }
  }
  return lines;
}

/** A full tool definition as automatic_mcp returns it. */
export type ReturnedTool = ToolDefinition & { hash: string };

/** The structured output of automatic_mcp (CONTRACT §1). */
export interface McpOutput {
  runId: string;
  mode: 'llm' | 'hybrid' | 'lexical' | 'fallback';
  etag: string;
  tools: ReturnedTool[];
  unchanged: { name: string; hash: string; [key: string]: unknown }[];
  totalAvailable: number;
  [key: string]: unknown;
}

/** Calls a gateway tool and returns the raw CallToolResult. */
export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  options?: RequestOptions,
): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args }, undefined, options)) as CallToolResult;
}

/** Calls automatic_mcp, expects success, checks the text mirror and returns the structured output. */
export async function selectTools(client: Client, args: Record<string, unknown>): Promise<McpOutput> {
  const result = await callTool(client, 'automatic_mcp', args);
  if (result.isError) throw new Error(`automatic_mcp failed: ${JSON.stringify(result.content)}`);
  if (result.structuredContent === undefined) throw new Error('automatic_mcp returned no structuredContent');
  const block = result.content[0];
  if (result.content.length !== 1 || block?.type !== 'text')
    throw new Error(`automatic_mcp: expected one text block, got ${JSON.stringify(result.content)}`);
  const mirrored = JSON.parse(block.text) as unknown;
  if (JSON.stringify(sortDeep(mirrored)) !== JSON.stringify(sortDeep(result.structuredContent))) {
    throw new Error('automatic_mcp: the text block does not mirror structuredContent');
  }
  return result.structuredContent as McpOutput;
}

/** Calls automatic_eval and returns the raw result. */
export async function evalTool(
  client: Client,
  toolName: string,
  args?: Record<string, unknown>,
  options?: RequestOptions & { sessionId?: string },
): Promise<CallToolResult> {
  const { sessionId, ...requestOptions } = options ?? {};
  return callTool(
    client,
    'automatic_eval',
    { toolName, ...(args !== undefined ? { arguments: args } : {}), ...(sessionId !== undefined ? { sessionId } : {}) },
    requestOptions,
  );
}

/** The JSON payload of a gateway error result: {error: {code, message}, ...extra}. */
export interface ErrorPayload {
  error: { code: string; message: string };
  [key: string]: unknown;
}

/**
 * Asserts `result` is a gateway error (isError, exactly one text block of JSON with error.code and
 * error.message) and returns its payload. Throws with the result when it is not.
 */
export function errorPayload(result: CallToolResult): ErrorPayload {
  const block = result.content[0];
  if (result.isError !== true || result.content.length !== 1 || block?.type !== 'text') {
    throw new Error(`expected a gateway error result, got ${JSON.stringify(result)}`);
  }
  const payload = JSON.parse(block.text) as ErrorPayload;
  if (typeof payload.error?.code !== 'string' || typeof payload.error.message !== 'string') {
    throw new Error(`error payload lacks error.code/error.message: ${block.text}`);
  }
  return payload;
}

/** The text of the first content block (for tool results that are plain text). */
export function firstText(result: CallToolResult): string {
  const block = result.content[0];
  if (block?.type !== 'text') throw new Error(`expected a text block, got ${JSON.stringify(result.content)}`);
  return block.text;
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(100);
  }
}

/** True while a process with this pid exists (the same check `automcp status` uses). */
export { isRunning as isAlive } from '../../src/state/statusFile.js';

/** Object keys sorted at every depth: an oracle for canonical JSON written apart from src/. */
export function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortDeep((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
