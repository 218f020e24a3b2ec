/**
 * The connection lifecycle as a table: every (state, event) pair, the state it leads to or `-` when
 * it is refused. A change to the state machine must change this table, on purpose.
 */
import { describe, expect, it } from 'vitest';
import {
  LIFECYCLE_EVENTS,
  LIFECYCLE_STATES,
  Lifecycle,
  reportedState,
  transition,
  type LifecycleEvent,
  type LifecycleState,
} from '../../src/downstream/lifecycle.js';

// prettier-ignore
const EXPECTED: Record<LifecycleState, Record<LifecycleEvent, LifecycleState | '-'>> = {
  idle:            { start: 'starting', listed: '-', fail: '-', 'give-up': '-', drop: '-', 'idle-stop': '-', close: 'closing', stopped: '-', 'sign-in-needed': '-' },
  starting:        { start: '-', listed: 'up', fail: 'failed', 'give-up': 'down', drop: '-', 'idle-stop': '-', close: 'closing', stopped: '-', 'sign-in-needed': 'needs-sign-in' },
  up:              { start: '-', listed: '-', fail: '-', 'give-up': '-', drop: 'closed', 'idle-stop': 'idle-stopping', close: 'closing', stopped: '-', 'sign-in-needed': 'needs-sign-in' },
  failed:          { start: 'starting', listed: '-', fail: '-', 'give-up': '-', drop: '-', 'idle-stop': '-', close: 'closing', stopped: '-', 'sign-in-needed': '-' },
  down:            { start: 'starting', listed: '-', fail: '-', 'give-up': '-', drop: '-', 'idle-stop': '-', close: 'closing', stopped: '-', 'sign-in-needed': '-' },
  closed:          { start: 'starting', listed: '-', fail: '-', 'give-up': '-', drop: '-', 'idle-stop': '-', close: 'closing', stopped: '-', 'sign-in-needed': '-' },
  'idle-stopping': { start: '-', listed: '-', fail: '-', 'give-up': '-', drop: '-', 'idle-stop': '-', close: 'closing', stopped: 'idle-stopped', 'sign-in-needed': '-' },
  'idle-stopped':  { start: 'starting', listed: '-', fail: '-', 'give-up': '-', drop: '-', 'idle-stop': '-', close: 'closing', stopped: '-', 'sign-in-needed': '-' },
  closing:         { start: '-', listed: '-', fail: '-', 'give-up': '-', drop: '-', 'idle-stop': '-', close: '-', stopped: 'closed', 'sign-in-needed': '-' },
  'needs-sign-in': { start: 'starting', listed: '-', fail: '-', 'give-up': '-', drop: '-', 'idle-stop': '-', close: 'closing', stopped: '-', 'sign-in-needed': '-' },
};

describe('the connection lifecycle', () => {
  const pairs = LIFECYCLE_STATES.flatMap((state) => LIFECYCLE_EVENTS.map((event) => [state, event] as const));

  it('covers every state and event', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...LIFECYCLE_STATES].sort());
    expect(pairs).toHaveLength(LIFECYCLE_STATES.length * LIFECYCLE_EVENTS.length);
  });

  it.each(pairs)('%s + %s', (state, event) => {
    const expected = EXPECTED[state][event];
    expect(transition(state, event) ?? '-').toBe(expected);
  });

  it('refuses an event the table does not allow, and leaves the state alone', () => {
    const lifecycle = new Lifecycle();
    expect(lifecycle.offer('drop')).toBe(false);
    expect(() => lifecycle.apply('listed')).toThrow(/"listed" is not allowed in state "idle"/);
    expect(lifecycle.state).toBe('idle');
    expect(lifecycle.apply('start')).toBe('starting');
    expect(lifecycle.can('start')).toBe(false);
  });

  it('reports a stop in progress as the state it ends in', () => {
    expect(reportedState('idle-stopping')).toBe('idle-stopped');
    expect(reportedState('closing')).toBe('closed');
    for (const state of LIFECYCLE_STATES.filter((entry) => entry !== 'idle-stopping' && entry !== 'closing')) {
      expect(reportedState(state)).toBe(state);
    }
  });
});
