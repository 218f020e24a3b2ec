import { describe, expect, it } from 'vitest';
import { MemorySessionStore } from '../../src/session/memory.js';
import { sessionKeyString } from '../../src/session/store.js';
import { sessionStoreConformance } from './conformance.js';

sessionStoreConformance(
  'memory (lru-cache)',
  async ({ ttlSeconds, maxSessions, clock }) => new MemorySessionStore({ ttlSeconds, maxSessions, clock }),
);

describe('session keys', () => {
  it('session keys cannot collide by shifting characters between caller and sessionId', () => {
    expect(sessionKeyString({ caller: 'a:b', sessionId: 'c' })).not.toBe(sessionKeyString({ caller: 'a', sessionId: 'b:c' }));
    expect(sessionKeyString({ caller: 'a.b', sessionId: 'c' })).not.toBe(sessionKeyString({ caller: 'a', sessionId: 'b.c' }));
  });
});
