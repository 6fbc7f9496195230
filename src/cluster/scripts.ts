/**
 * The Lua scripts that make cluster decisions atomic in Redis. Time always comes from Redis `TIME` (no instance clock
 * skew in leases, pacing, days or rate windows); the one exception is a cool-down deadline, set in instance ms.
 * Numbers go back to Redis through `ms()` (string.format): Lua's tostring would print 1.7e+12 and lose digits.
 */
import type { LuaScript } from "./redis-connection.ts";

const NOW = `
local function ms(x) return string.format('%.0f', x) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS: lease:<acct> (ZSET leaseId → expiresAt), acct:<acct> (HASH lastStart gap day dayCount cooldownUntil),
 *       lease:_global (ZSET "<acct> <leaseId>" → expiresAt), accounts (SET of accounts ever leased).
 * ARGV: leaseId, ttlMs, maxInflight, gapMs, nextGapMs, dailyCap, globalMax, account.
 * Returns {1, inflight} or {0, reason, waitMs (-1: none)}.
 */
export const ACQUIRE: LuaScript = {
  name: "acquire",
  source: `${NOW}
local leaseId, ttl, maxInflight = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local gapMs, nextGap, dailyCap, globalMax = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms(now))
local st = redis.call('HMGET', KEYS[2], 'lastStart', 'gap', 'day', 'dayCount', 'cooldownUntil')
local lastStart, gap, day, dayCount, cool = tonumber(st[1]), tonumber(st[2]), tonumber(st[3]), tonumber(st[4]) or 0, tonumber(st[5])
if cool and cool > now then return {0, 'cooling', ms(cool - now)} end
local inflight = redis.call('ZCARD', KEYS[1])
if inflight >= maxInflight then return {0, 'busy', -1} end
if gapMs > 0 and lastStart then
  local need = gap or gapMs
  if now - lastStart < need then return {0, 'paced', ms(need - (now - lastStart))} end
end
local today = math.floor(now / 86400000)
if day ~= today then dayCount = 0 end
if dailyCap > 0 and dayCount >= dailyCap then return {0, 'daily_cap', ms((today + 1) * 86400000 - now)} end
if globalMax > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ms(now))
  if redis.call('ZCARD', KEYS[3]) >= globalMax then return {0, 'global', -1} end
  redis.call('ZADD', KEYS[3], ms(now + ttl), ARGV[8] .. ' ' .. leaseId)
  redis.call('PEXPIRE', KEYS[3], ms(ttl * 2))
end
redis.call('ZADD', KEYS[1], ms(now + ttl), leaseId)
redis.call('PEXPIRE', KEYS[1], ms(ttl * 2))
redis.call('HSET', KEYS[2], 'lastStart', ms(now), 'gap', ms(nextGap), 'day', ms(today), 'dayCount', ms(dayCount + 1))
redis.call('PEXPIRE', KEYS[2], 172800000)
redis.call('SADD', KEYS[4], ARGV[8])
return {1, inflight + 1}
`,
};

/** KEYS: lease:<acct>, lease:_global. ARGV: leaseId, channel, account. Always tells the others (a slot may be free). */
export const RELEASE: LuaScript = {
  name: "release",
  source: `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[3] .. ' ' .. ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`,
};

/**
 * KEYS: lease:_global, then lease:<acct> per lease. ARGV: ttlMs, then per lease: leaseId, account, global (1/0).
 * ZADD without XX: a lease a restarted Redis lost comes back.
 */
export const RENEW: LuaScript = {
  name: "renew",
  source: `${NOW}
local ttl = tonumber(ARGV[1])
local exp = ms(now + ttl)
for i = 2, #KEYS do
  local j = (i - 2) * 3 + 2
  redis.call('ZADD', KEYS[i], exp, ARGV[j])
  redis.call('PEXPIRE', KEYS[i], ms(ttl * 2))
  if ARGV[j + 2] == '1' then
    redis.call('ZADD', KEYS[1], exp, ARGV[j + 1] .. ' ' .. ARGV[j])
    redis.call('PEXPIRE', KEYS[1], ms(ttl * 2))
  end
end
return #KEYS - 1
`,
};

/**
 * Heartbeat and capacity read in one round trip.
 * KEYS: inst:<id> (HASH), instances (ZSET id → seenAt), accounts (SET).
 * ARGV: instanceId, inflight, waiting, windowMs, instance key prefix ("<prefix>inst:"), lease key prefix ("<prefix>lease:").
 * Returns {instances, inflight, waiting, acct1, n1, acct2, n2, …} (accounts with live leases only).
 */
export const HEARTBEAT: LuaScript = {
  name: "heartbeat",
  source: `${NOW}
local window = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'inflight', ARGV[2], 'waiting', ARGV[3], 'at', ms(now))
redis.call('PEXPIRE', KEYS[1], ms(window * 4))
redis.call('ZADD', KEYS[2], ms(now), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ms(now - window * 20))
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], ms(now - window), '+inf')
local inflight, waiting = 0, 0
for _, id in ipairs(ids) do
  local v = redis.call('HMGET', ARGV[5] .. id, 'inflight', 'waiting')
  inflight = inflight + (tonumber(v[1]) or 0)
  waiting = waiting + (tonumber(v[2]) or 0)
end
local out = {#ids, inflight, waiting}
for _, acct in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local n = redis.call('ZCOUNT', ARGV[6] .. acct, '(' .. ms(now), '+inf')
  if n > 0 then
    out[#out + 1] = acct
    out[#out + 1] = n
  end
end
return out
`,
};

/** Instances stop: KEYS inst:<id>, instances. ARGV instanceId. */
export const LEAVE: LuaScript = {
  name: "leave",
  source: `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`,
};

/**
 * Exact sliding-window rate: KEYS rpm:<key> (ZSET member → at). ARGV limit, member (unique).
 * Returns {1} when admitted (and counted) or {0, retryAfterMs}.
 */
export const RPM: LuaScript = {
  name: "rpm",
  source: `${NOW}
local limit = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms(now - 60000))
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  local at = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
  return {0, ms(tonumber(at[2]) + 60000 - now)}
end
redis.call('ZADD', KEYS[1], ms(now), ARGV[2])
redis.call('PEXPIRE', KEYS[1], 61000)
return {1}
`,
};

/** KEYS tok:<key>:<day>. ARGV n, expirySeconds. Counts only once the day was seeded (the seed holds what came before). */
export const ADD_TOKENS: LuaScript = {
  name: "add-tokens",
  source: `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return v
`,
};

/** KEYS login:<acct>. ARGV holder. Deletes the lock only if it is still ours. */
export const UNLOCK: LuaScript = {
  name: "unlock",
  source: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
};
