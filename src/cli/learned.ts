/**
 * `automcp learned`: what the gateways learned from use, per profile and tool (strongest terms and
 * their weights), read from the state directory or Redis; `--forget [TOOL]` clears one tool's evidence
 * or all of it. Running gateways pick the change up on their next refresh.
 */
import { loadConfig, type RuntimeConfig } from '../config/load.js';
import { PROFILE_NAME } from '../config/schema.js';
import { resolveStateDir } from '../state/stateDir.js';
import { createEvidenceStore, learningSettings } from '../learning/create.js';
import { readLearned } from '../learning/report.js';

/** Options of `automcp learned`. */
export interface LearnedOptions {
  config?: string;
  profile?: string;
  json?: boolean;
  /** true: forget everything; a name: forget that tool. */
  forget?: boolean | string;
}

/** Prints (or forgets) what was learned; exit code 0, or 1 when the store cannot be reached. */
export async function learnedCommand(options: LearnedOptions): Promise<number> {
  if (options.profile !== undefined && !PROFILE_NAME.test(options.profile)) {
    process.stderr.write(`automcp: --profile "${options.profile}" is not a profile name (expected [A-Za-z0-9_-]{1,64})\n`);
    return 1;
  }
  const config = await loadOptionalConfig(options.config);
  const stateDir = resolveStateDir(config?.stateDir !== undefined ? { configured: config.stateDir } : {});
  const { store, where, learning } = await openStore(config, stateDir);
  try {
    if (store.ready && !(await store.ready(2_000))) {
      process.stderr.write(`automcp: the learned-evidence store (${where}) does not answer; check session.redisUrl\n`);
      return 1;
    }
    const profiles = options.profile !== undefined ? [options.profile] : await store.profiles();
    if (options.forget !== undefined) {
      const tool = typeof options.forget === 'string' ? options.forget : undefined;
      const removed = [];
      for (const profile of profiles) removed.push({ profile, removed: await store.forget(profile, tool) });
      if (options.json)
        process.stdout.write(`${JSON.stringify({ store: where, tool: tool ?? null, forgotten: removed }, null, 2)}\n`);
      else
        for (const { profile, removed: count } of removed)
          process.stdout.write(`profile ${profile}: forgot ${count} learned pairs${tool !== undefined ? ` of ${tool}` : ''}\n`);
      return 0;
    }
    const learned = await readLearned({ store, settings: learningSettings(learning), profiles });
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ store: where, profiles: learned }, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`learned from use (${where})\n`);
    if (learned.length === 0) process.stdout.write('nothing learned yet\n');
    for (const entry of learned) {
      process.stdout.write(`profile ${entry.profile}: ${entry.tools.length} tools, ${entry.pairs} (term, tool) pairs\n`);
      for (const tool of entry.tools) {
        const terms = tool.terms.map((term) => `${term.term} ${term.weight.toFixed(2)}`).join(', ');
        process.stdout.write(`  ${tool.tool.padEnd(40)} ${tool.weight.toFixed(2).padStart(7)}  ${terms}\n`);
      }
    }
    return 0;
  } finally {
    await store.close?.();
  }
}

/** Per profile, how many tools and pairs were learned: the figures `automcp status` shows. */
export async function learnedCounts(
  config: RuntimeConfig | undefined,
  stateDir: string,
): Promise<{ store: string; profiles: { profile: string; tools: number; pairs: number }[]; error?: string }> {
  const { store, where, learning } = await openStore(config, stateDir);
  try {
    if (store.ready && !(await store.ready(2_000))) return { store: where, profiles: [], error: 'does not answer' };
    const learned = await readLearned({ store, settings: learningSettings(learning), topTerms: 0 });
    return {
      store: where,
      profiles: learned.map((entry) => ({ profile: entry.profile, tools: entry.tools.length, pairs: entry.pairs })),
    };
  } catch (error) {
    return { store: where, profiles: [], error: (error as Error).message };
  } finally {
    await store.close?.();
  }
}

async function openStore(config: RuntimeConfig | undefined, stateDir: string) {
  const session = config?.session ?? {
    store: 'memory' as const,
    ttlSeconds: 3600,
    maxSessions: 10_000,
    redisKeyPrefix: 'automcp:',
  };
  const learning = { session, ...(config?.learning ? { learning: config.learning } : {}) };
  const store = (await createEvidenceStore({ config: learning, stateDir }))!;
  const where = store.kind === 'redis' ? 'redis' : `${stateDir}/learned`;
  return { store, where, learning };
}

/** runtime.yaml when there is one; without one, the default state directory is still read. */
async function loadOptionalConfig(path: string | undefined): Promise<RuntimeConfig | undefined> {
  return loadConfig(path !== undefined ? { path } : {}).catch((error: unknown) => {
    if (path !== undefined) throw error;
    return undefined;
  });
}
