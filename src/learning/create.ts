/**
 * Builds the learner a gateway uses: evidence in Redis when sessions are shared there, else in the
 * state directory, else (no state directory: one-shot commands, benchmarks) in memory only.
 */
import type { RuntimeConfig } from '../config/load.js';
import type { Logger } from '../logging/logger.js';
import type { Clock } from '../session/memory.js';
import { FileEvidenceStore } from './fileStore.js';
import { DEFAULT_LEARNING, Learner, type LearningSettings } from './learner.js';
import type { EvidenceStore } from './store.js';

/**
 * The evidence store `config` calls for; undefined when evidence lives in memory only. The Redis store
 * (and the Redis client under it) is loaded only when sessions live in Redis.
 */
export async function createEvidenceStore({
  config,
  stateDir,
  logger,
  now = Date.now,
}: {
  config: Pick<RuntimeConfig, 'session' | 'learning'>;
  stateDir?: string;
  logger?: Logger;
  now?: () => number;
}): Promise<EvidenceStore | undefined> {
  const settings = learningSettings(config);
  const halfLifeMs = settings.halfLifeDays * 86_400_000;
  const { session } = config;
  if (session.store === 'redis' && session.redisUrl !== undefined) {
    const { RedisEvidenceStore } = await import('./redisStore.js');
    return new RedisEvidenceStore({
      url: session.redisUrl,
      keyPrefix: session.redisKeyPrefix,
      halfLifeMs,
      maxEntries: settings.maxEntries,
      ...(logger ? { logger } : {}),
    });
  }
  if (stateDir !== undefined) return new FileEvidenceStore({ stateDir, halfLifeMs, maxEntries: settings.maxEntries, now });
  return undefined;
}

/** The learner of a gateway built from `config`. */
export async function createLearner({
  config,
  stateDir,
  logger,
  clock,
}: {
  config: Pick<RuntimeConfig, 'session' | 'learning'>;
  stateDir?: string;
  logger?: Logger;
  clock?: Clock;
}): Promise<Learner> {
  const now = clock ? () => clock.now() : Date.now;
  const store = await createEvidenceStore({
    config,
    ...(stateDir !== undefined ? { stateDir } : {}),
    ...(logger ? { logger } : {}),
    now,
  });
  return new Learner({
    settings: learningSettings(config),
    ...(store ? { store } : {}),
    ...(logger ? { logger } : {}),
    ...(clock ? { clock } : {}),
    session: { ttlSeconds: config.session.ttlSeconds, maxSessions: config.session.maxSessions },
  });
}

/** runtime.yaml `learning` with defaults filled in. */
export function learningSettings(config: Pick<RuntimeConfig, 'learning'>): LearningSettings {
  return { ...DEFAULT_LEARNING, ...config.learning };
}
