/**
 * Work that must wait until a response has been handed to the transport. `automatic_mcp` records what
 * a session was sent only then: the SDK drops the response of a request cancelled after its handler
 * returned, and a session that counted those definitions as held would answer names-only next time for
 * schemas the agent never saw. (Handing over is as far as the gateway can see; a connection that breaks
 * afterwards loses the response, which is what `fresh: true` is for.)
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

/** The deferred tasks of one upstream connection, by request id. */
export class ResponseDelivery {
  readonly #transport: Transport;
  readonly #pending = new Map<RequestId, () => void>();
  #watching = false;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * Runs `task` right after the response to request `id` is handed to the transport; drops it when
   * `signal` aborts first (the request was cancelled or its connection closed: no response follows).
   */
  afterSend(id: RequestId, signal: AbortSignal, task: () => void): void {
    if (signal.aborted) return;
    this.#watch();
    const drop = () => this.#pending.delete(id);
    signal.addEventListener('abort', drop, { once: true });
    this.#pending.set(id, () => {
      signal.removeEventListener('abort', drop);
      task();
    });
  }

  /** Wraps the transport's `send` on first use, so connections that never defer pay nothing. */
  #watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    const transport = this.#transport;
    const send = transport.send.bind(transport);
    transport.send = (message: JSONRPCMessage, options) => {
      const sent = send(message, options);
      const id = this.#pending.size > 0 && ('result' in message || 'error' in message) ? message.id : undefined;
      const task = id === undefined ? undefined : this.#pending.get(id);
      if (task) {
        this.#pending.delete(id!);
        task();
      }
      return sent;
    };
  }
}
