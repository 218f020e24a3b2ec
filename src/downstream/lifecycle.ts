/**
 * The lifecycle of one downstream connection as one explicit state machine: every state, every event
 * and every allowed transition are in {@link TRANSITIONS}, and nothing else moves a connection's state.
 * What a transition does (spawning, closing, counting failures) stays in connection.ts; this module only
 * says whether it may happen and where it leads, so an event that arrives at the wrong time (a drop
 * during a stop, a start during a shutdown) is refused here instead of corrupting the state.
 */

/**
 * Where a connection is: `idle` (never started), `starting` (connecting, then listing tools), `up`,
 * `failed` (the last start failed), `down` (too many failures in a row; cooling down), `closed`
 * (stopped, or the connection dropped), `idle-stopping` and `idle-stopped` (stopped for being unused),
 * `closing` (being stopped by a shutdown), `needs-sign-in` (a remote server refused us until someone
 * signs in: not a failure, so nothing retries it until the sign-in changes).
 */
export type LifecycleState =
  'idle' | 'starting' | 'up' | 'failed' | 'down' | 'closed' | 'idle-stopping' | 'idle-stopped' | 'closing' | 'needs-sign-in';

/**
 * What happens to a connection: `start` (a start begins), `listed` (connected and its tools listed),
 * `fail` (the start failed), `give-up` (the start failed once too often: cool down), `drop` (the
 * connection closed by itself), `idle-stop` (stop it for being unused), `close` (stop it: shutdown),
 * `stopped` (the stop in progress finished), `sign-in-needed` (the server wants a new sign-in).
 */
export type LifecycleEvent =
  'start' | 'listed' | 'fail' | 'give-up' | 'drop' | 'idle-stop' | 'close' | 'stopped' | 'sign-in-needed';

/** Every state and every event, in the order the table is documented and tested. */
export const LIFECYCLE_STATES: readonly LifecycleState[] = [
  'idle',
  'starting',
  'up',
  'failed',
  'down',
  'closed',
  'idle-stopping',
  'idle-stopped',
  'closing',
  'needs-sign-in',
];
export const LIFECYCLE_EVENTS: readonly LifecycleEvent[] = [
  'start',
  'listed',
  'fail',
  'give-up',
  'drop',
  'idle-stop',
  'close',
  'stopped',
  'sign-in-needed',
];

/**
 * The allowed transitions; any (state, event) pair missing here is refused. Notably: a drop counts
 * only while up (during a start the start's own failure counts, during a stop nothing does); a start
 * is refused while stopping (it would leave a child nobody closes); a shutdown takes over an idle stop.
 */
export const TRANSITIONS: Readonly<Record<LifecycleState, Readonly<Partial<Record<LifecycleEvent, LifecycleState>>>>> = {
  idle: { start: 'starting', close: 'closing' },
  starting: { listed: 'up', fail: 'failed', 'give-up': 'down', close: 'closing', 'sign-in-needed': 'needs-sign-in' },
  up: { drop: 'closed', 'idle-stop': 'idle-stopping', close: 'closing', 'sign-in-needed': 'needs-sign-in' },
  failed: { start: 'starting', close: 'closing' },
  down: { start: 'starting', close: 'closing' },
  closed: { start: 'starting', close: 'closing' },
  'idle-stopping': { close: 'closing', stopped: 'idle-stopped' },
  'idle-stopped': { start: 'starting', close: 'closing' },
  closing: { stopped: 'closed' },
  'needs-sign-in': { start: 'starting', close: 'closing' },
};

/** The state `event` leads to from `state`, or undefined when the table refuses it. */
export function transition(state: LifecycleState, event: LifecycleEvent): LifecycleState | undefined {
  return TRANSITIONS[state][event];
}

/**
 * The state as reported (`automcp status`, metrics): a stop in progress already shows where it ends,
 * so a server being stopped for idleness reads `idle-stopped` and one being shut down reads `closed`.
 */
export type ConnectionState = 'idle' | 'starting' | 'up' | 'idle-stopped' | 'closed' | 'failed' | 'down' | 'needs-sign-in';

/** The reported state of a lifecycle state. */
export function reportedState(state: LifecycleState): ConnectionState {
  if (state === 'idle-stopping') return 'idle-stopped';
  if (state === 'closing') return 'closed';
  return state;
}

/** One connection's current lifecycle state; moves only along {@link TRANSITIONS}. */
export class Lifecycle {
  #state: LifecycleState = 'idle';

  /** The current state. */
  get state(): LifecycleState {
    return this.#state;
  }

  /** True when `event` is allowed now. */
  can(event: LifecycleEvent): boolean {
    return transition(this.#state, event) !== undefined;
  }

  /** Applies `event`; a refused event is a bug in the caller, so it throws. */
  apply(event: LifecycleEvent): LifecycleState {
    const next = transition(this.#state, event);
    if (next === undefined) throw new Error(`lifecycle: "${event}" is not allowed in state "${this.#state}"`);
    this.#state = next;
    return next;
  }

  /** Applies `event` when allowed; returns whether it was (for events that may legitimately arrive late). */
  offer(event: LifecycleEvent): boolean {
    const next = transition(this.#state, event);
    if (next === undefined) return false;
    this.#state = next;
    return true;
  }
}
