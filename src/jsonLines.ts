/**
 * Newline-delimited JSON-RPC framing for stdio, on both sides of the gateway. It is the SDK's
 * `ReadBuffer` without its zod parse of every line: the SDK's `Protocol` classifies each message with
 * its own schema guards anyway and reports what fits none, and the gateway's short route for
 * tools/call (gateway/dispatch.ts) checks the envelope of every request it takes. Only a line that is
 * not one JSON object with `"jsonrpc": "2.0"` is refused here, as a SyntaxError like any unparseable
 * line, so nothing past this point reads fields of a number or an array.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** Longest line kept while waiting for its newline, as in the SDK (10 MiB). */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;

const NEWLINE = 0x0a;

/** Splits a byte stream into JSON-RPC messages, one per line. */
export class JsonLineReader {
  #buffer: Buffer | undefined;

  /** Adds a chunk; throws (and forgets what it held) when a line outgrows {@link MAX_LINE_BYTES}. */
  append(chunk: Buffer): void {
    const size = (this.#buffer?.length ?? 0) + chunk.length;
    if (size > MAX_LINE_BYTES) {
      this.#buffer = undefined;
      throw new Error(`a JSON-RPC line is longer than ${MAX_LINE_BYTES} bytes`);
    }
    this.#buffer = this.#buffer ? Buffer.concat([this.#buffer, chunk]) : chunk;
  }

  /**
   * The next message, or null until a whole line has arrived. Blank lines are skipped. Throws a
   * SyntaxError for a line that is not JSON or not a JSON-RPC object; that line is consumed, so reading
   * can go on.
   */
  read(): JSONRPCMessage | null {
    for (;;) {
      const buffer = this.#buffer;
      if (!buffer) return null;
      const end = buffer.indexOf(NEWLINE);
      if (end === -1) return null;
      const stop = end > 0 && buffer[end - 1] === 0x0d ? end - 1 : end;
      const line = buffer.toString('utf8', 0, stop);
      this.#buffer = end + 1 < buffer.length ? buffer.subarray(end + 1) : undefined;
      if (line.trim() === '') continue;
      const message: unknown = JSON.parse(line);
      if (typeof message !== 'object' || message === null || (message as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
        throw new SyntaxError(`not a JSON-RPC message: ${line.length > 80 ? `${line.slice(0, 80)}…` : line}`);
      }
      return message as JSONRPCMessage;
    }
  }

  clear(): void {
    this.#buffer = undefined;
  }
}

/** One message as a line. */
export function serializeMessage(message: JSONRPCMessage): string {
  return `${JSON.stringify(message)}\n`;
}
