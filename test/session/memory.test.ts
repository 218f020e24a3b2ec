import { MemorySessionStore } from '../../src/session/memory.js';
import { sessionStoreConformance } from './conformance.js';

sessionStoreConformance(
  'memory (lru-cache)',
  async ({ ttlSeconds, maxSessions, clock }) => new MemorySessionStore({ ttlSeconds, maxSessions, clock }),
);
