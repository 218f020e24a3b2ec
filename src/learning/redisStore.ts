/**
 * Learned evidence in Redis, used when `session.store: redis`, so every gateway process sharing the
 * Redis (and key prefix) learns from the use all of them see. With the default prefix `automcp:`:
 *
 * - `automcp:learn:<profile>` — hash of `tool<TAB>term` → `weight:atMs` (the weight as of that time);
 * - `automcp:learn:<profile>:lru` — sorted set of the same fields by last change, for the size cap;
 * - `automcp:learn:<profile>:v` — a counter bumped on every change, so a process re-reads the table
 *   only when another one changed it;
 * - `automcp:learn-profiles` — the profiles that have evidence.
 *
 * Each operation is one Lua script, so two processes adding to the same pair at once both count (the
 * decay-aware add happens inside Redis). The connection fails fast like the session store's.
 */
import type { Logger } from '../logging/logger.js';
import { RedisConnection } from '../session/redisConnection.js';
import type { EvidenceEntry } from './evidence.js';
import type { EvidenceStore } from './store.js';

const PARSE = `
local function parse(value)
  local sep = string.find(value, ':', 1, true)
  return tonumber(string.sub(value, 1, sep - 1)), tonumber(string.sub(value, sep + 1))
end
`;

/** KEYS: hash, lru, version, profiles. ARGV: halfLifeMs, cap, profile, then (field, amount, at) triples. */
const RECORD = `${PARSE}
local hl = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
for i = 4, #ARGV, 3 do
  local field = ARGV[i]
  local amount = tonumber(ARGV[i + 1])
  local at = tonumber(ARGV[i + 2])
  local weight, stamp = amount, at
  local old = redis.call('HGET', KEYS[1], field)
  if old then
    local w, t = parse(old)
    if t > at then
      weight, stamp = w + amount * math.pow(2, -(t - at) / hl), t
    else
      weight = w * math.pow(2, -(at - t) / hl) + amount
    end
  end
  redis.call('HSET', KEYS[1], field, string.format('%.17g', weight) .. ':' .. string.format('%.0f', stamp))
  redis.call('ZADD', KEYS[2], stamp, field)
end
local n = redis.call('ZCARD', KEYS[2])
if n > cap then
  for _, victim in ipairs(redis.call('ZRANGE', KEYS[2], 0, n - cap - 1)) do
    redis.call('HDEL', KEYS[1], victim)
    redis.call('ZREM', KEYS[2], victim)
  end
end
redis.call('SADD', KEYS[4], ARGV[3])
return redis.call('INCR', KEYS[3])
`;

/** KEYS: hash, lru, version. ARGV: the version last seen. Returns {version, field, value, …} oldest first. */
const PULL = `
local v = redis.call('GET', KEYS[3]) or '0'
if v == ARGV[1] then return {v} end
local out = {v}
for _, field in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local value = redis.call('HGET', KEYS[1], field)
  if value then
    out[#out + 1] = field
    out[#out + 1] = value
  end
end
return out
`;

/** KEYS: hash, lru, version, profiles. ARGV: tool ('' for all), profile. Returns the pairs removed. */
const FORGET = `
local removed = 0
if ARGV[1] == '' then
  removed = redis.call('HLEN', KEYS[1])
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('SREM', KEYS[4], ARGV[2])
else
  local prefix = ARGV[1] .. '\\t'
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(field, 1, #prefix) == prefix then
      redis.call('HDEL', KEYS[1], field)
      redis.call('ZREM', KEYS[2], field)
      removed = removed + 1
    end
  end
end
redis.call('INCR', KEYS[3])
return removed
`;

const PROFILES = `return redis.call('SMEMBERS', KEYS[1])`;

/** The Redis store of learned evidence. */
export class RedisEvidenceStore implements EvidenceStore {
  readonly kind = 'redis' as const;
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #halfLifeMs: number;
  readonly #maxEntries: number;
  readonly #versions = new Map<string, string>();

  constructor(options: {
    url: string;
    keyPrefix: string;
    halfLifeMs: number;
    maxEntries: number;
    logger?: Logger;
    commandTimeoutMs?: number;
  }) {
    this.#prefix = options.keyPrefix;
    this.#halfLifeMs = options.halfLifeMs;
    this.#maxEntries = options.maxEntries;
    // Reading a whole table of tens of thousands of pairs takes longer than a session lookup, but a
    // stalled Redis must not hold a stopping gateway past its deadline.
    this.#redis = new RedisConnection({
      url: options.url,
      commandTimeoutMs: options.commandTimeoutMs ?? 2_000,
      scripts: [RECORD, PULL, FORGET],
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  /** Resolves true once connected, false when `waitMs` passed first. */
  ready(waitMs: number): Promise<boolean> {
    return this.#redis.whenReady(waitMs);
  }

  async push(profile: string, deltas: readonly EvidenceEntry[]): Promise<undefined> {
    if (deltas.length === 0) return undefined;
    const args = [String(this.#halfLifeMs), String(this.#maxEntries), profile];
    for (const delta of deltas) args.push(`${delta.tool}\t${delta.term}`, String(delta.weight), String(Math.round(delta.at)));
    await this.#redis.script(RECORD, this.#keys(profile, true), args);
    return undefined;
  }

  async pull(profile: string): Promise<EvidenceEntry[] | undefined> {
    const reply = (await this.#redis.script(PULL, this.#keys(profile, false), [this.#versions.get(profile) ?? ''])) as string[];
    const [version, ...pairs] = reply;
    if (version === this.#versions.get(profile)) return undefined;
    this.#versions.set(profile, version ?? '0');
    const entries: EvidenceEntry[] = [];
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const field = pairs[i]!;
      const tab = field.indexOf('\t');
      const [weight, at] = pairs[i + 1]!.split(':').map(Number);
      if (tab > 0 && Number.isFinite(weight) && Number.isFinite(at)) {
        entries.push({ tool: field.slice(0, tab), term: field.slice(tab + 1), weight: weight!, at: at! });
      }
    }
    return entries;
  }

  async forget(profile: string, tool?: string): Promise<number> {
    return (await this.#redis.script(FORGET, this.#keys(profile, true), [tool ?? '', profile])) as number;
  }

  async profiles(): Promise<string[]> {
    const names = (await this.#redis.script(PROFILES, [`${this.#prefix}learn-profiles`], [])) as string[];
    return names.sort();
  }

  async close(): Promise<void> {
    await this.#redis.close();
  }

  #keys(profile: string, withProfiles: boolean): string[] {
    const base = `${this.#prefix}learn:${encodeURIComponent(profile)}`;
    return [base, `${base}:lru`, `${base}:v`, ...(withProfiles ? [`${this.#prefix}learn-profiles`] : [])];
  }
}
