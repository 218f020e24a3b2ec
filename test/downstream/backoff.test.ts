/**
 * The restart policy on an injected clock and random source: exponential waits with jitter, down
 * after repeated failures with a fixed cool-down, and background retries paced more slowly.
 */
import { describe, expect, it } from 'vitest';
import {
  COOL_DOWN_MS,
  DOWN_AFTER_FAILURES,
  RESTART_BASE_MS,
  RETRY_BASE_MS,
  RestartPolicy,
} from '../../src/downstream/backoff.js';

function policy(random = 0.5) {
  let time = 5_000_000;
  const restart = new RestartPolicy({ now: () => time, random: () => random });
  return { restart, advance: (ms: number) => (time += ms), now: () => time };
}

describe('RestartPolicy', () => {
  it('lets a healthy server start at once', () => {
    expect(policy().restart.gate()).toEqual({ kind: 'go' });
  });

  it('doubles the wait with each failure in a row', () => {
    const { restart, advance } = policy();
    const waits: number[] = [];
    for (let failure = 1; failure < DOWN_AFTER_FAILURES; failure++) {
      restart.recordFailure();
      const gate = restart.gate();
      expect(gate.kind).toBe('wait');
      waits.push((gate as { ms: number }).ms);
      advance((gate as { ms: number }).ms);
      expect(restart.gate()).toEqual({ kind: 'go' });
    }
    expect(waits).toEqual([RESTART_BASE_MS, RESTART_BASE_MS * 2, RESTART_BASE_MS * 4, RESTART_BASE_MS * 8]);
  });

  it('scales each wait by a jitter factor between 0.8 and 1.2', () => {
    const low = policy(0);
    low.restart.recordFailure();
    const high = policy(0.999_999);
    high.restart.recordFailure();
    expect(low.restart.gate()).toEqual({ kind: 'wait', ms: RESTART_BASE_MS * 0.8 });
    expect((high.restart.gate() as { ms: number }).ms).toBe(Math.round(RESTART_BASE_MS * 1.2));
  });

  it('is down for the cool-down after repeated failures, then allows one attempt', () => {
    const { restart, advance, now } = policy();
    for (let failure = 0; failure < DOWN_AFTER_FAILURES; failure++) restart.recordFailure();
    const failedAt = now();
    expect(restart.down).toBe(true);
    expect(restart.gate()).toEqual({ kind: 'down', until: failedAt + COOL_DOWN_MS });
    advance(COOL_DOWN_MS - 1);
    expect(restart.gate().kind).toBe('down');
    advance(1);
    expect(restart.down).toBe(false);
    expect(restart.gate()).toEqual({ kind: 'go' });
    // That attempt fails too: down again straight away, for another cool-down.
    restart.recordFailure();
    expect(restart.gate()).toEqual({ kind: 'down', until: now() + COOL_DOWN_MS });
  });

  it('forgets failures after a successful start', () => {
    const { restart } = policy();
    for (let failure = 0; failure < DOWN_AFTER_FAILURES; failure++) restart.recordFailure();
    restart.recordSuccess();
    expect(restart.failures).toBe(0);
    expect(restart.down).toBe(false);
    expect(restart.gate()).toEqual({ kind: 'go' });
  });

  it('paces background retries from a longer base, never while down', () => {
    const { restart, advance } = policy(0);
    expect(restart.retryDue()).toBe(false);
    restart.recordFailure();
    advance(RETRY_BASE_MS * 0.8 - 1);
    expect(restart.retryDue()).toBe(false);
    advance(1);
    expect(restart.retryDue()).toBe(true);
    for (let failure = 1; failure < DOWN_AFTER_FAILURES; failure++) restart.recordFailure();
    advance(COOL_DOWN_MS - 1);
    expect(restart.retryDue()).toBe(false);
    advance(1);
    expect(restart.retryDue()).toBe(true);
  });
});
