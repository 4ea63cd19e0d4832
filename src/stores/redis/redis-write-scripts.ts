/** The Lua scripts that create and write a session (layout: redis-scripts.ts). */
import type { RedisScript } from './redis-scripts.js';
import { REVOKED_BY_EPOCH } from './redis-user-scripts.js';

/**
 * KEYS: session, index, the user's epoch. ARGV: ttlMs, now, indexMember ('' when anonymous),
 * absoluteDeadline, sessionsPerUser limit, the key prefix of the user's sessions
 * (`<prefix>{tag}:s:`), onLimit ('evict-oldest' or 'refuse'), the digest of the
 * session this one replaces ('' for none), the user id, then field/value pairs. Creates the
 * session, expiring at the earlier of ttl and deadline, and answers {'created', evicted handles}
 * or {'refused'}. A user's session first destroys the replaced session if it is the same user's,
 * then counts the user's live sessions: index entries past their deadline, whose session is gone
 * (idle expiry leaves the entry) or revoked by the epoch are dropped on the way, so only live
 * sessions count. At the limit, 'refuse' stores nothing; otherwise the oldest (lowest deadline,
 * i.e. created first) beyond the limit are destroyed. The new session copies the user's epoch,
 * if there is one (only revoke-all creates it, see REVOKED_BY_EPOCH), and is indexed; index and
 * epoch live at least until its deadline. Session keys are built here from the prefix: they carry the same {tag}, so
 * the same slot.
 */
export const CREATE: RedisScript = {
  name: 'sessionAuthCreate',
  numberOfKeys: 3,
  lua: `
local now = tonumber(ARGV[2])
local deadline = tonumber(ARGV[4])
local prefix = ARGV[6]
local function write()
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], unpack(ARGV, 10))
  redis.call('PEXPIRE', KEYS[1], math.max(1, math.min(tonumber(ARGV[1]), deadline - now)))
end
if ARGV[3] == '' then
  write()
  return {'created', {}}
end
if ARGV[8] ~= '' then
  if redis.call('HGET', prefix .. ARGV[8], 'u') == ARGV[9] then
    redis.call('DEL', prefix .. ARGV[8])
    redis.call('ZREM', KEYS[2], ARGV[8])
  end
end
local epoch = redis.call('GET', KEYS[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local live = {}
for _, digest in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local alive = false
  if redis.call('EXISTS', prefix .. digest) == 1 then
    local sessionEpoch = redis.call('HGET', prefix .. digest, 'g')
    alive = (sessionEpoch or '') == (epoch or '')
    if not alive then redis.call('DEL', prefix .. digest) end
  end
  if alive then live[#live + 1] = digest else redis.call('ZREM', KEYS[2], digest) end
end
local limit = tonumber(ARGV[5])
if ARGV[7] == 'refuse' and #live >= limit then return {'refused'} end
write()
if epoch then
  redis.call('HSET', KEYS[1], 'g', epoch)
  if redis.call('PTTL', KEYS[3]) < deadline - now then redis.call('PEXPIRE', KEYS[3], deadline - now) end
end
redis.call('ZADD', KEYS[2], deadline, ARGV[3])
local evicted = {}
for i = 1, #live + 1 - limit do
  evicted[#evicted + 1] = redis.call('HGET', prefix .. live[i], 'h')
  redis.call('DEL', prefix .. live[i])
  redis.call('ZREM', KEYS[2], live[i])
end
if redis.call('PTTL', KEYS[2]) < deadline - now then
  redis.call('PEXPIRE', KEYS[2], deadline - now)
end
return {'created', evicted}
`,
};

/**
 * KEYS: session. ARGV: maxKeys, maxTotalBytes, number of field/value pairs to set, the pairs,
 * then fields to delete, then (last) the two MEASURED_DATA_LIMITS (bytes, keys). A password
 * proof time `p` comes absolute and is stored relative to the session's `c`, as every time is.
 * Writes only what changed; writes nothing if the session is gone, so a late write cannot
 * resurrect a destroyed session. The data caps (SESSION_DATA_LIMITS) are checked here, on the
 * data as it is now, so concurrent writes cannot pass them together: -1 and nothing written when
 * the write would. Small data is measured by walking the hash (a listpack, cheap); past
 * MEASURED_DATA_LIMITS its size is kept in fields db (bytes of names and values) and dk (keys),
 * so a write to a large session costs only what it changes.
 */
export const PATCH: RedisScript = {
  name: 'sessionAuthPatch',
  numberOfKeys: 1,
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local measuredBytes, measuredKeys = tonumber(ARGV[#ARGV - 1]), tonumber(ARGV[#ARGV])
local size = redis.call('HMGET', KEYS[1], 'db', 'dk')
local bytes, keys = tonumber(size[1]), tonumber(size[2])
if bytes == nil or keys == nil then
  bytes, keys = 0, 0
  local fields = redis.call('HGETALL', KEYS[1])
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 1) == '.' then
      bytes = bytes + #fields[i] - 1 + #fields[i + 1]
      keys = keys + 1
    end
  end
end
local function weigh(field, value)
  if string.sub(field, 1, 1) ~= '.' then return end
  if redis.call('HEXISTS', KEYS[1], field) == 1 then
    bytes = bytes - (#field - 1) - redis.call('HSTRLEN', KEYS[1], field)
    keys = keys - 1
  end
  if value then
    bytes = bytes + #field - 1 + #value
    keys = keys + 1
  end
end
local count = tonumber(ARGV[3])
local lastPair = 3 + count * 2
local lastUnset = #ARGV - 2
for i = 4, lastPair, 2 do
  if ARGV[i] == 'p' then ARGV[i + 1] = tostring(tonumber(ARGV[i + 1]) - tonumber(redis.call('HGET', KEYS[1], 'c'))) end
  weigh(ARGV[i], ARGV[i + 1])
end
for i = lastPair + 1, lastUnset do weigh(ARGV[i], nil) end
if keys > tonumber(ARGV[1]) or bytes > tonumber(ARGV[2]) then return -1 end
if count > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 4, lastPair)) end
if lastUnset > lastPair then redis.call('HDEL', KEYS[1], unpack(ARGV, lastPair + 1, lastUnset)) end
if bytes > measuredBytes or keys > measuredKeys then
  redis.call('HSET', KEYS[1], 'db', bytes, 'dk', keys)
else
  redis.call('HDEL', KEYS[1], 'db', 'dk')
end
return 1
`,
};

/**
 * KEYS: old session, new session, index, the user's epoch. ARGV: old digest, new digest, now.
 * Moves a session to a new token (RENAME keeps the TTL) and updates its index entry, which it may
 * have to recreate (a lost index key): the index then lives until the session's deadline. A
 * session revoked by the epoch, or at or past its deadline, is not moved but deleted.
 */
export const RENAME: RedisScript = {
  name: 'sessionAuthRename',
  numberOfKeys: 4,
  lua: `${REVOKED_BY_EPOCH}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local times = redis.call('HMGET', KEYS[1], 'c', 'a')
local deadlineBefore = tonumber(times[1]) and tonumber(times[2]) and tonumber(times[1]) + tonumber(times[2])
-- Past its deadline (by this app's clock) or revoked: deleted, never moved, so the index below
-- is never recreated for a session with no time left (it would get no TTL).
if not deadlineBefore or deadlineBefore <= tonumber(ARGV[3]) or revokedByEpoch(redis.call('HGET', KEYS[1], 'g'), KEYS[4]) then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('RENAME', KEYS[1], KEYS[2])
local user, deadline = redis.call('HGET', KEYS[2], 'u'), deadlineBefore
if user and user ~= '' then
  local score = redis.call('ZSCORE', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('ZADD', KEYS[3], score or deadline, ARGV[2])
  local ttl = deadline - tonumber(ARGV[3])
  if ttl > 0 and redis.call('PTTL', KEYS[3]) < ttl then redis.call('PEXPIRE', KEYS[3], ttl) end
end
return 1
`,
};
