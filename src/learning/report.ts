/**
 * What was learned, read straight from the store (state directory or Redis), for `automcp learned`
 * and `automcp status`: per profile, per tool, its total weight and strongest terms.
 */
import { EvidenceTable } from './evidence.js';
import type { LearningSettings } from './learner.js';
import type { EvidenceStore } from './store.js';

/** One profile's learned evidence. */
export interface LearnedProfile {
  profile: string;
  /** (term, tool) pairs held. */
  pairs: number;
  tools: { tool: string; weight: number; terms: { term: string; weight: number }[] }[];
}

/** Reads the evidence of `profiles` (default: every profile the store knows). */
export async function readLearned({
  store,
  settings,
  profiles,
  now = Date.now(),
  topTerms = 8,
}: {
  store: EvidenceStore;
  settings: LearningSettings;
  profiles?: readonly string[];
  now?: number;
  topTerms?: number;
}): Promise<LearnedProfile[]> {
  await store.ready?.(2_000);
  const names = profiles ?? (await store.profiles());
  const out: LearnedProfile[] = [];
  for (const profile of names) {
    const table = new EvidenceTable({ halfLifeMs: settings.halfLifeDays * 86_400_000, maxEntries: settings.maxEntries });
    table.replace((await store.pull(profile)) ?? []);
    const tools = table.summary(now, topTerms);
    out.push({ profile, pairs: table.size, tools });
  }
  return out;
}
