/**
 * Cancelling an upstream `automatic_eval` request cancels its downstream call (the SDK client sends
 * notifications/cancelled when the signal of its request fires) — without a listener on every upstream
 * request's AbortSignal. Handing that signal to the downstream call made the SDK add an `abort`
 * listener per call, never removed, which on Node.js 20 costs about 3 µs even when hot and keeps the
 * downstream request's closure reachable for as long as the upstream signal is.
 *
 * An upstream request is aborted for exactly two reasons — a notifications/cancelled naming it, or the
 * connection closing — and both pass the upstream transport. So each call gets a {@link CallSignal}:
 * its state is the upstream signal's own, but the downstream call's listener is kept on the call, and
 * fired when one of those two messages aborted the upstream request.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { CancelSignal } from '../downstream/connection.js';

/**
 * The signal of one forwarded call: the upstream request's state when the call began (a request
 * cancelled before its handler ran is already aborted), brought up to date by {@link fire}, with
 * listeners of its own.
 */
export class CallSignal implements CancelSignal {
  readonly #upstream: AbortSignal;
  #aborted = false;
  #reason: unknown;
  #listeners: (() => void)[] | undefined;

  /** `check`: whether the upstream request may already be aborted (reading an AbortSignal is not free). */
  constructor(upstream: AbortSignal, check: boolean) {
    this.#upstream = upstream;
    if (check && upstream.aborted) {
      this.#aborted = true;
      this.#reason = upstream.reason;
    }
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  throwIfAborted(): void {
    if (this.#aborted) throw this.#reason;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    (this.#listeners ??= []).push(listener);
  }

  /** Takes the upstream request's state and, if it has been aborted, runs the listeners once. */
  fire(): void {
    if (this.#aborted || !this.#upstream.aborted) return;
    this.#aborted = true;
    this.#reason = this.#upstream.reason;
    const listeners = this.#listeners ?? [];
    this.#listeners = undefined;
    for (const listener of listeners) listener();
  }
}

/** The forwarded calls of one upstream connection, by upstream request id. */
export class UpstreamCancellations {
  readonly #calls = new Map<RequestId, CallSignal>();
  /**
   * Set by the first cancellation or the close: until then no request of this connection can have
   * been aborted, not even one whose handler has not started yet.
   */
  #abortsSeen = false;

  /** The signal for a call made on behalf of upstream request `id`; {@link end} releases it. */
  begin(id: RequestId, upstream: AbortSignal): CallSignal {
    const signal = new CallSignal(upstream, this.#abortsSeen);
    this.#calls.set(id, signal);
    return signal;
  }

  /** The call is over: nothing is left to cancel. */
  end(id: RequestId, signal: CancelSignal): void {
    if (this.#calls.get(id) === signal) this.#calls.delete(id);
  }

  /**
   * Watches `transport` (after the server connected to it) for what aborts upstream requests. The SDK
   * acts first: it aborts a cancelled request's signal in a microtask of its own, and a closing
   * connection's signals at once, so the calls are told afterwards.
   */
  watch(transport: Transport): void {
    const route = transport.onmessage;
    const closed = transport.onclose;
    transport.onmessage = (message: JSONRPCMessage, extra) => {
      route?.(message, extra);
      if ('method' in message && message.method === 'notifications/cancelled') {
        this.#abortsSeen = true;
        const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
        if (id !== undefined) queueMicrotask(() => this.#calls.get(id)?.fire());
      }
    };
    transport.onclose = () => {
      this.#abortsSeen = true;
      closed?.();
      for (const signal of this.#calls.values()) signal.fire();
    };
  }
}
