/**
 * `automcp serve` without an SDK client in between: the test writes JSON-RPC lines to its stdin and
 * sees every byte of its stdout, which is how it proves stdout carries JSON-RPC and nothing else.
 * Also runs `serve` to completion for startup failures (exit code, stdout, stderr).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { CLI_PATH, REPO_ROOT, makeTempStateDir } from './config.js';

/** A JSON-RPC message as read from stdout. */
export interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: string | number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A serve process spoken to line by line. */
export interface RawServe {
  child: ChildProcessWithoutNullStreams;
  /** Every stdout line so far, verbatim (without the newline). */
  stdoutLines(): string[];
  /** Bytes written to stdout after the last newline (a partial line; should stay empty). */
  stdoutRemainder(): string;
  stderr(): string;
  /** Sends a request and resolves with its response (result or error). */
  request(method: string, params?: Record<string, unknown>, timeoutMs?: number): Promise<JsonRpcMessage>;
  notify(method: string, params?: Record<string, unknown>): void;
  /** Sends initialize and notifications/initialized. */
  initialize(): Promise<JsonRpcMessage>;
  /** Resolves when the process exits. */
  exited: Promise<Exit>;
  /** Ends stdin, as a client does when it goes away. */
  endStdin(): void;
  /** Kills the process if it is still running. */
  kill(): void;
}

/** Spawns `node dist/cli/main.js serve ...args`. */
export function spawnServe({ args, env = {} }: { args: string[]; env?: Record<string, string> }): RawServe {
  // Hermetic: without an XDG_STATE_HOME of the test's own, the gateway gets a temp one, removed at exit.
  const state = env.XDG_STATE_HOME === undefined ? makeTempStateDir() : undefined;
  const child = spawn(process.execPath, [CLI_PATH, 'serve', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, ...(state ? { XDG_STATE_HOME: state.dir } : {}) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let remainder = '';
  let stderr = '';
  let nextId = 1;
  const pending = new Map<string | number, (message: JsonRpcMessage) => void>();
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    remainder += chunk;
    let index: number;
    while ((index = remainder.indexOf('\n')) !== -1) {
      const line = remainder.slice(0, index);
      remainder = remainder.slice(index + 1);
      lines.push(line);
      try {
        const message = JSON.parse(line) as JsonRpcMessage;
        if (message.id !== undefined && message.method === undefined) pending.get(message.id)?.(message);
      } catch {
        // kept in `lines`; the test judges it
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      state?.cleanup();
      resolve({ code, signal });
    }),
  );
  const write = (message: Record<string, unknown>) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);

  const raw: RawServe = {
    child,
    stdoutLines: () => [...lines],
    stdoutRemainder: () => remainder,
    stderr: () => stderr,
    request(method, params, timeoutMs = 30_000) {
      const id = nextId++;
      return new Promise<JsonRpcMessage>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`no response to ${method} within ${timeoutMs} ms; stderr:\n${stderr}`));
        }, timeoutMs);
        pending.set(id, (message) => {
          clearTimeout(timer);
          pending.delete(id);
          resolve(message);
        });
        write({ id, method, ...(params !== undefined ? { params } : {}) });
      });
    },
    notify(method, params) {
      write({ method, ...(params !== undefined ? { params } : {}) });
    },
    async initialize() {
      const response = await raw.request('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'automcp-raw-test', version: '0.0.0' },
      });
      raw.notify('notifications/initialized');
      return response;
    },
    exited,
    endStdin: () => child.stdin.end(),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  return raw;
}

/** Runs `serve` expecting it to stop on its own (a startup failure); kills it after `timeoutMs`. */
export async function runServeToExit({
  args,
  env = {},
  timeoutMs = 15_000,
}: {
  args: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<Exit & { stdout: string; stderr: string; timedOut: boolean }> {
  const raw = spawnServe({ args, env });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    raw.kill();
  }, timeoutMs);
  try {
    const exit = await raw.exited;
    return { ...exit, stdout: raw.stdoutLines().join('\n') + raw.stdoutRemainder(), stderr: raw.stderr(), timedOut };
  } finally {
    clearTimeout(timer);
    raw.kill();
  }
}
