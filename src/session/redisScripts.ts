/**
 * The Lua scripts of the Redis session store. Each runs atomically in Redis, so reads that renew a
 * session, merges that evict the least recently used one, and the live count agree across processes.
 *
 * KEYS[1] is the index (sorted set: member → last use in microseconds of Redis time), KEYS[2] the
 * session's hash. ARGV[1] is the TTL in milliseconds, ARGV[2] the session's member name.
 *
 * Scores come from Redis's own clock (TIME), the same clock that expires the hashes, and strictly
 * increase (at least the highest score + 1 µs), so two uses within one microsecond still order by
 * recency and eviction never picks the session that was just used.
 */

const PRELUDE = `
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
-- Members idle longer than the TTL: their hashes have expired, so they no longer count.
local function prune(index, ttl_ms, now)
  -- string.format, not '..': Lua prints numbers with 14 significant digits, too few for microseconds.
  redis.call('ZREMRANGEBYSCORE', index, '-inf', string.format('(%.0f', now - tonumber(ttl_ms) * 1000))
end
local function touch(index, member, ttl_ms, now)
  local top = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  local score = now
  if top[2] and tonumber(top[2]) >= score then score = tonumber(top[2]) + 1 end
  redis.call('ZADD', index, score, member)
  -- The index outlives every session it lists, and disappears once all are idle.
  redis.call('PEXPIRE', index, ttl_ms)
end
`;

/** Scripts by name; each returns the live count (after pruning) so `size()` stays current for free. */
export const SCRIPTS = {
  /** What the session holds; a hit renews its TTL and recency. Returns {count, {name, hash, …}}. */
  sent: `${PRELUDE}
local now = now_us()
prune(KEYS[1], ARGV[1], now)
local fields = redis.call('HGETALL', KEYS[2])
if #fields > 0 then
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
  touch(KEYS[1], ARGV[2], ARGV[1], now)
else
  redis.call('ZREM', KEYS[1], ARGV[2])
end
return {redis.call('ZCARD', KEYS[1]), fields}
`,
  /**
   * Merges name/hash pairs (ARGV[6..]) into the session (or replaces what it held when ARGV[5] is
   * '1'), renews it, and evicts the least recently used sessions beyond maxSessions (ARGV[3]); ARGV[4]
   * is the key prefix of session hashes.
   */
  record: `${PRELUDE}
local now = now_us()
prune(KEYS[1], ARGV[1], now)
if ARGV[5] == '1' then redis.call('DEL', KEYS[2]) end
redis.call('HSET', KEYS[2], unpack(ARGV, 6))
redis.call('PEXPIRE', KEYS[2], ARGV[1])
touch(KEYS[1], ARGV[2], ARGV[1], now)
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if over > 0 then
  local evicted = redis.call('ZPOPMIN', KEYS[1], over)
  for i = 1, #evicted, 2 do redis.call('DEL', ARGV[4] .. evicted[i]) end
end
return redis.call('ZCARD', KEYS[1])
`,
  /** Drops the session. */
  forget: `${PRELUDE}
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[2])
prune(KEYS[1], ARGV[1], now_us())
return redis.call('ZCARD', KEYS[1])
`,
  /** The live count alone. */
  count: `${PRELUDE}
prune(KEYS[1], ARGV[1], now_us())
return redis.call('ZCARD', KEYS[1])
`,
} as const;

/** The name of one of {@link SCRIPTS}. */
export type ScriptName = keyof typeof SCRIPTS;
