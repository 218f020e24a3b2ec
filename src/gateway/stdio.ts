/**
 * The upstream stdio transport of `automcp serve`: the SDK's `StdioServerTransport` with the lean
 * framing of jsonLines.ts, so a message is parsed once (JSON.parse) instead of once more by zod before
 * the SDK classifies it. stdin carries the client's messages, stdout ours and nothing else.
 */
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { JsonLineReader, serializeMessage } from '../jsonLines.js';

/** JSON-RPC over a stdin and a stdout: the process's own in `automcp serve`. */
export class StdioUpstreamTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #stdin: Readable;
  readonly #stdout: Writable;
  readonly #reader = new JsonLineReader();
  #started = false;

  constructor(stdin: Readable, stdout: Writable) {
    this.#stdin = stdin;
    this.#stdout = stdout;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('StdioUpstreamTransport already started');
    this.#started = true;
    this.#stdin.on('data', this.#onData);
    this.#stdin.on('error', this.#onError);
  }

  send(message: JSONRPCMessage): Promise<void> {
    // A pipe write on Linux completes at once; only a full pipe makes the caller wait.
    if (this.#stdout.write(serializeMessage(message))) return Promise.resolve();
    return new Promise((resolve) => this.#stdout.once('drain', resolve));
  }

  async close(): Promise<void> {
    this.#stdin.off('data', this.#onData);
    this.#stdin.off('error', this.#onError);
    if (this.#stdin.listenerCount('data') === 0) this.#stdin.pause();
    this.#reader.clear();
    this.onclose?.();
  }

  readonly #onData = (chunk: Buffer): void => {
    try {
      this.#reader.append(chunk);
    } catch (error) {
      // What was buffered is gone, so the stream is out of step: end the connection, as the SDK does.
      this.onerror?.(error as Error);
      void this.close();
      return;
    }
    for (;;) {
      try {
        const message = this.#reader.read();
        if (message === null) return;
        this.onmessage?.(message);
      } catch (error) {
        // One bad line (or a failing handler): report it and read on, as the SDK does.
        this.onerror?.(error as Error);
      }
    }
  };

  readonly #onError = (error: Error): void => {
    this.onerror?.(error);
  };
}
