// The Lua scripts of the redis backend: each makes one read-check-write atomic on the server. Every script touches
// either a single key or keys that share a hash tag (keys.ts), so it runs unchanged on Redis Cluster.
// Time inside a script is the server's (TIME): every node of a cohort cluster then judges windows and "consumed"
// stamps by the same clock. Computed numbers go back to Redis through fmt(): Lua 5.1's tostring would print epoch
// milliseconds as 1.7e+12.
import { createHash } from 'node:crypto';

const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function fmt(n) return string.format('%.0f', n) end
-- Indexes live as long as their longest-lived member: move the expiry later, never earlier.
local function extend(key, at, now)
  local pttl = redis.call('PTTL', key)
  if pttl == -1 or (pttl >= 0 and now + pttl < at) then redis.call('PEXPIREAT', key, fmt(at)) end
end
`;

/** A script run by EVALSHA, falling back to EVAL once per server that has not cached it (NOSCRIPT). */
export class LuaScript {
  readonly source: string;
  readonly sha: string;

  constructor(readonly name: string, body: string) {
    this.source = PRELUDE + body;
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }
}

/**
 * Session write. KEYS: record. ARGV: json, uid, userId, hasUser ('1'/'0'), expiresAt.
 * Keeps the creation score of a live record (an overwrite keeps its place in list order), stamps a new one
 * (server microseconds) otherwise. Returns { creation score, previous uid, previous userId }.
 */
export const SESSION_PUT = new LuaScript('sessionPut', `
local old = redis.call('HMGET', KEYS[1], 'c', 'u', 'o')
local c = old[1]
if not c then
  local t = redis.call('TIME')
  c = t[1] .. string.format('%06d', tonumber(t[2]))
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'c', c, 'u', ARGV[2])
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'o', ARGV[3]) else redis.call('HDEL', KEYS[1], 'o') end
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
return { c, old[2], old[3] }
`);

/** Session delete. KEYS: record. Returns { uid, userId, creation score } of what was there (nil each if nothing). */
export const SESSION_DELETE = new LuaScript('sessionDelete', `
local old = redis.call('HMGET', KEYS[1], 'u', 'o', 'c')
redis.call('DEL', KEYS[1])
return old
`);

/** Global session indexes. KEYS: created, expires ({sl}). ARGV: id, creation score, expiresAt. */
export const SESSION_INDEX = new LuaScript('sessionIndex', `
local now = now_ms()
local at = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
extend(KEYS[1], at, now)
extend(KEYS[2], at, now)
return 1
`);

/**
 * Drops ids from both global session indexes. KEYS: created, expires. ARGV: id, expected creation score, expected
 * expiry score, repeated; '' skips a check. The expected scores guard a prune against a put that re-created or
 * re-indexed the id after the prune looked at it.
 */
export const SESSION_UNINDEX = new LuaScript('sessionUnindex', `
local removed = 0
for i = 1, #ARGV, 3 do
  local id, c, e = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if (c == '' or redis.call('ZSCORE', KEYS[1], id) == c) and (e == '' or redis.call('ZSCORE', KEYS[2], id) == e) then
    removed = removed + redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
  end
end
return removed
`);

/** ZADD that keeps the sorted set alive as long as its longest member. KEYS: zset. ARGV: score, member, expiresAt. */
export const ZADD_EXTEND = new LuaScript('zaddExtend', `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
extend(KEYS[1], tonumber(ARGV[3]), now_ms())
return 1
`);

/** Removes members whose score is still the one the caller saw. KEYS: zset. ARGV: member, score, repeated. */
export const ZREM_IF_SCORE = new LuaScript('zremIfScore', `
local removed = 0
for i = 1, #ARGV, 2 do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return removed
`);

/** Deletes a string key only while it still holds the given value (an index entry nobody re-pointed). */
export const DEL_IF_EQUAL = new LuaScript('delIfEqual', `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** SADD that keeps the set alive as long as its longest member. KEYS: set. ARGV: member, expiresAt. */
export const SADD_EXTEND = new LuaScript('saddExtend', `
redis.call('SADD', KEYS[1], ARGV[1])
extend(KEYS[1], tonumber(ARGV[2]), now_ms())
return 1
`);

/**
 * Token write, replacing any previous record whole. KEYS: record.
 * ARGV: json, hasConsumed, consumed JSON, hasGrant, grantId, expiresAt.
 */
export const TOKEN_PUT = new LuaScript('tokenPut', `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1])
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'k', ARGV[3]) end
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'g', ARGV[5]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[6])
return 1
`);

/**
 * One-time consume. KEYS: record. The consumed stamp (epoch seconds) goes in field k beside the JSON, so the
 * payload is never decoded and re-encoded in Lua (cjson would turn [] into {}); HSET keeps the key's TTL.
 */
export const TOKEN_CONSUME = new LuaScript('tokenConsume', `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'not_found' end
if redis.call('HEXISTS', KEYS[1], 'k') == 1 then return 'already_consumed' end
redis.call('HSET', KEYS[1], 'k', redis.call('TIME')[1])
return 'consumed'
`);

/**
 * Token delete. KEYS: record. ARGV: onlyGrant ('1'/'0'), grantId. With onlyGrant, deletes only while the record
 * still belongs to that grant (it may have moved since the grant set was read). Returns the deleted JSON or nil.
 */
export const TOKEN_DELETE = new LuaScript('tokenDelete', `
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return false end
if ARGV[1] == '1' and redis.call('HGET', KEYS[1], 'g') ~= ARGV[2] then return false end
redis.call('DEL', KEYS[1])
return v
`);

/**
 * Registry add. KEYS: the session's hash. ARGV: participant field, participant JSON, expiresAt.
 * A participant keeps the rank it was first added with; the entry lives until the latest expiry any add gave it
 * (field x, exact, where PTTL would be off by a millisecond). Returns 0 (nothing stored) when that expiry has already passed.
 */
export const REGISTRY_ADD = new LuaScript('registryAdd', `
local now = now_ms()
local target = tonumber(ARGV[3])
local current = tonumber(redis.call('HGET', KEYS[1], 'x') or '0')
if current > target then target = current end
if target <= now then return 0 end
if redis.call('HEXISTS', KEYS[1], 'o:' .. ARGV[1]) == 0 then
  redis.call('HSET', KEYS[1], 'o:' .. ARGV[1], redis.call('HINCRBY', KEYS[1], '#', 1))
end
redis.call('HSET', KEYS[1], 'p:' .. ARGV[1], ARGV[2], 'x', fmt(target))
redis.call('PEXPIREAT', KEYS[1], fmt(target))
return 1
`);

/**
 * Revoke. KEYS: order, entry ({rv}). ARGV: id, expiresAt, cap. The entry's value is its expiry (epoch ms).
 * A live revocation keeps its rank and only ever gains expiry; a new (or expired) one goes last. Over the cap the
 * lowest ranks leave the order at once; their entry keys are the caller's to delete (returned after the expiry),
 * as a script may only touch the keys it declares. Returns {} when nothing was stored (expiry already passed).
 */
export const REVOKE = new LuaScript('revoke', `
local now = now_ms()
local current = redis.call('GET', KEYS[2])
local target = tonumber(ARGV[2])
if current and tonumber(current) > target then target = tonumber(current) end
if target <= now then return {} end
if not current then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  local rank = 1
  if last[2] then rank = tonumber(last[2]) + 1 end
  redis.call('ZADD', KEYS[1], fmt(rank), ARGV[1])
end
redis.call('SET', KEYS[2], fmt(target), 'PXAT', fmt(target))
extend(KEYS[1], target, now)
local result = { fmt(target) }
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if excess > 0 then
  local evicted = redis.call('ZRANGE', KEYS[1], 0, excess - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
  for _, id in ipairs(evicted) do result[#result + 1] = id end
end
return result
`);

/** Drops ids whose entry is gone. KEYS: order, then one entry key per id. ARGV: the ids, aligned with KEYS[2..]. */
export const PRUNE_REVOCATIONS = new LuaScript('pruneRevocations', `
local removed = 0
for i = 1, #ARGV do
  if redis.call('EXISTS', KEYS[i + 1]) == 0 then removed = removed + redis.call('ZREM', KEYS[1], ARGV[i]) end
end
return removed
`);

/**
 * Login failure. KEYS: the key's zset. ARGV: windowMs, unique member suffix, max timestamps kept.
 * Member ~w holds the widest window any caller used, as a negative score so no time range ever touches it: a
 * narrower caller never prunes what a wider one still counts. Returns the count inside the caller's window.
 */
export const FAILURE_RECORD = new LuaScript('failureRecord', `
local now = now_ms()
local window = tonumber(ARGV[1])
local widest = window
local stored = redis.call('ZSCORE', KEYS[1], '~w')
if stored and -tonumber(stored) > widest then widest = -tonumber(stored) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, string.format('%.3f', now - widest))
redis.call('ZADD', KEYS[1], fmt(now), fmt(now) .. ':' .. ARGV[2])
redis.call('ZADD', KEYS[1], string.format('%.3f', -widest), '~w')
local kept = redis.call('ZCOUNT', KEYS[1], 0, '+inf')
local max = tonumber(ARGV[3])
if kept > max then redis.call('ZREMRANGEBYRANK', KEYS[1], 1, kept - max) end
redis.call('PEXPIREAT', KEYS[1], fmt(math.ceil(now + widest)))
return redis.call('ZCOUNT', KEYS[1], '(' .. string.format('%.3f', now - window), '+inf')
`);

/** Failures inside a window, by the server's clock. KEYS: the key's zset. ARGV: windowMs. */
export const FAILURE_COUNT = new LuaScript('failureCount', `
return redis.call('ZCOUNT', KEYS[1], '(' .. string.format('%.3f', now_ms() - tonumber(ARGV[1])), '+inf')
`);
