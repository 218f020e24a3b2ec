/**
 * Work deferred until a response is handed to the transport: it runs right after the response to its
 * request is sent, and never when the request was cancelled (the SDK then sends no response).
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { ResponseDelivery } from '../../src/gateway/delivery.js';

function recordingTransport(events: string[]): Transport {
  return {
    start: async () => undefined,
    close: async () => undefined,
    send: async (message: JSONRPCMessage) => {
      events.push(`sent ${'id' in message ? String(message.id) : 'notification'}`);
    },
  };
}

describe('ResponseDelivery', () => {
  it('runs a task right after the response to its request is handed over, not before and not for other messages', async () => {
    const events: string[] = [];
    const transport = recordingTransport(events);
    const delivery = new ResponseDelivery(transport);
    delivery.afterSend(7, new AbortController().signal, () => events.push('recorded 7'));
    await transport.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } });
    await transport.send({ jsonrpc: '2.0', id: 6, result: {} });
    expect(events).toEqual(['sent notification', 'sent 6']);
    await transport.send({ jsonrpc: '2.0', id: 7, result: {} });
    await transport.send({ jsonrpc: '2.0', id: 7, result: {} });
    expect(events).toEqual(['sent notification', 'sent 6', 'sent 7', 'recorded 7', 'sent 7']);
  });

  it('drops the task of a request cancelled before its response was sent', async () => {
    const events: string[] = [];
    const transport = recordingTransport(events);
    const delivery = new ResponseDelivery(transport);
    const cancelled = new AbortController();
    delivery.afterSend(1, cancelled.signal, () => events.push('recorded 1'));
    cancelled.abort('cancelled');
    await transport.send({ jsonrpc: '2.0', id: 1, result: {} });
    const already = new AbortController();
    already.abort();
    delivery.afterSend(2, already.signal, () => events.push('recorded 2'));
    await transport.send({ jsonrpc: '2.0', id: 2, result: {} });
    expect(events).toEqual(['sent 1', 'sent 2']);
  });
});
