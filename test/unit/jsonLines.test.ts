import { describe, expect, it } from 'vitest';
import { JsonLineReader, MAX_LINE_BYTES } from '../../src/jsonLines.js';

/** Everything `reader` yields, with thrown errors in their place. */
function drain(reader: JsonLineReader): unknown[] {
  const out: unknown[] = [];
  for (;;) {
    try {
      const message = reader.read();
      if (message === null) return out;
      out.push(message);
    } catch (error) {
      out.push(error);
    }
  }
}

describe('JsonLineReader', () => {
  it('yields one message per line across chunk boundaries, CRLF and blank lines included', () => {
    const reader = new JsonLineReader();
    reader.append(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"a"}\r\n\n{"jsonrpc":"2.0",'));
    expect(drain(reader)).toEqual([{ jsonrpc: '2.0', id: 1, method: 'a' }]);
    reader.append(Buffer.from('"method":"b"}\n'));
    expect(drain(reader)).toEqual([{ jsonrpc: '2.0', method: 'b' }]);
  });

  it('refuses lines that are not JSON-RPC objects as SyntaxErrors and reads on', () => {
    const reader = new JsonLineReader();
    reader.append(Buffer.from('not json\n42\n[{"jsonrpc":"2.0"}]\n{"hello":"world"}\n{"jsonrpc":"2.0","method":"ok"}\n'));
    const out = drain(reader);
    expect(out.slice(0, 4).every((entry) => entry instanceof SyntaxError)).toBe(true);
    expect(out[4]).toEqual({ jsonrpc: '2.0', method: 'ok' });
  });

  it('refuses a line longer than the limit and forgets what it held', () => {
    const reader = new JsonLineReader();
    reader.append(Buffer.from('{"jsonrpc":'));
    expect(() => reader.append(Buffer.alloc(MAX_LINE_BYTES))).toThrow(/longer than/);
    reader.append(Buffer.from('{"jsonrpc":"2.0","method":"next"}\n'));
    expect(drain(reader)).toEqual([{ jsonrpc: '2.0', method: 'next' }]);
  });
});
