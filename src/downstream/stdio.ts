/**
 * The stdio client transport for POSIX: like the SDK's `StdioClientTransport`, but the child leads its
 * own process group, and stopping it stops the whole group — a server started through `npx`, `uvx` or
 * a shell script leaves no grandchild behind. Stopping asks politely first (stdin EOF), then SIGTERM,
 * then SIGKILL, each after a short grace. Lines are framed by jsonLines.ts: parsed once, and classified
 * by the SDK client's own guards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { JsonLineReader, serializeMessage } from '../jsonLines.js';
import type { ProcessGuard } from './processes.js';

/** Grace after stdin EOF, and again after SIGTERM, before the next step. */
export const STOP_GRACE_MS = 1_500;

/** What to run. */
export interface StdioProcessOptions {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd: string;
  guard: ProcessGuard;
}

/** A stdio transport whose child runs in its own process group, registered with a {@link ProcessGuard}. */
export class GroupStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #options: StdioProcessOptions;
  readonly #buffer = new JsonLineReader();
  readonly #stderr = new PassThrough();
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;

  constructor(options: StdioProcessOptions) {
    this.#options = options;
  }

  /** The child's stderr, available before start so no early line is lost. */
  get stderr(): Readable {
    return this.#stderr;
  }

  /** The child's pid (also its process group id) once started. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  async start(): Promise<void> {
    if (this.#child) throw new Error('GroupStdioTransport already started');
    const { command, args, env, cwd, guard } = this.#options;
    await new Promise<void>((resolve, reject) => {
      const child = spawn(command, [...args], {
        env,
        cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: guard.groups,
        shell: false,
      });
      this.#child = child;
      this.#exited = new Promise((done) => child.once('close', () => done()));
      child.once('error', (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.once('spawn', () => {
        if (child.pid !== undefined) guard.track(child.pid);
        resolve();
      });
      // Grandchildren may still hold the group (and our pipes, delaying 'close'): the leader's exit is
      // the moment to end them.
      child.once('exit', () => {
        if (child.pid !== undefined && guard.groups) signalGroup(child.pid, 'SIGTERM');
      });
      child.once('close', () => {
        if (child.pid !== undefined) guard.untrack(child.pid);
        if (this.#child === child) this.#child = undefined;
        this.onclose?.();
      });
      child.stdin?.on('error', (error) => this.onerror?.(error));
      child.stdout?.on('data', (chunk: Buffer) => {
        try {
          this.#buffer.append(chunk);
        } catch (error) {
          // A line beyond any sane size: what was buffered is gone, and the next line starts afresh.
          this.onerror?.(error as Error);
          return;
        }
        this.#drain();
      });
      child.stdout?.on('error', (error) => this.onerror?.(error));
      child.stderr?.pipe(this.#stderr);
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (!stdin) throw new Error('Not connected');
    const json = serializeMessage(message);
    if (!stdin.write(json)) await new Promise<void>((resolve) => stdin.once('drain', () => resolve()));
  }

  /** Stops the child and its group: stdin EOF, then SIGTERM, then SIGKILL. */
  async close(): Promise<void> {
    const child = this.#child;
    const exited = this.#exited;
    this.#child = undefined;
    if (child && exited && child.exitCode === null && child.signalCode === null) {
      const pid = child.pid;
      const grace = () => new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref());
      const finished = () => child.exitCode !== null || child.signalCode !== null;
      child.stdin?.end();
      await Promise.race([exited, grace()]);
      if (!finished() && pid !== undefined) {
        this.#signal(child, pid, 'SIGTERM');
        await Promise.race([exited, grace()]);
      }
      if (!finished() && pid !== undefined) this.#signal(child, pid, 'SIGKILL');
    }
    this.#buffer.clear();
  }

  #signal(child: ChildProcess, pid: number, signal: NodeJS.Signals): void {
    if (this.#options.guard.groups) signalGroup(pid, signal);
    else child.kill(signal);
  }

  #drain(): void {
    for (;;) {
      try {
        const message = this.#buffer.read();
        if (message === null) break;
        this.onmessage?.(message);
      } catch (error) {
        // A line that is not JSON-RPC: report it and carry on with the next one.
        this.onerror?.(error as Error);
      }
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}
