/**
 * Where learned evidence lives beyond the process: a file per profile in the state directory, or
 * Redis when sessions are shared there (so every gateway process learns from every other). The
 * learner keeps a copy in memory for ranking and talks to the store off the hot path.
 */
import type { EvidenceEntry } from './evidence.js';

/** Persistent evidence, per profile. */
export interface EvidenceStore {
  /** `redis` or `file`, for status output. */
  readonly kind: 'file' | 'redis';
  /**
   * Adds `deltas` (each `weight` an amount added at `at`) to what the store holds. May return the
   * store's whole table afterwards when that comes for free (the file store reads it anyway).
   */
  push(profile: string, deltas: readonly EvidenceEntry[]): Promise<EvidenceEntry[] | undefined>;
  /** The profile's table, least recently changed first; undefined when unchanged since the last pull. */
  pull(profile: string): Promise<EvidenceEntry[] | undefined>;
  /** Forgets one tool's evidence or all of it; returns the number of pairs removed. */
  forget(profile: string, tool?: string): Promise<number>;
  /** Profiles that have evidence. */
  profiles(): Promise<string[]>;
  /** Resolves true once the store can answer, false after `waitMs` (Redis still connecting). */
  ready?(waitMs: number): Promise<boolean>;
  close?(): Promise<void>;
}
