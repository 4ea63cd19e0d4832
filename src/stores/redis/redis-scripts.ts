/**
 * The Lua scripts behind RedisSessionStore. Each runs atomically and touches only keys given in
 * KEYS, which all carry the same `{tag}` hash tag, so each script runs in one Redis Cluster slot.
 *
 * Layout (see redis-session-store.ts): a session is a hash `<prefix>{tag}:s:<sha256(token)>`
 * with metadata fields (h handle, u user id, user, c created, s last seen, a absolute deadline,
 * ua, ip) and one `d:<name>` field per data key. A user's index is a sorted set
 * `<prefix>{tag}:u` of `<handle>.<digest>` scored by absolute deadline.
 */
export interface RedisScript {
  name: string;
  numberOfKeys: number | undefined;
  lua: string;
}

/**
 * KEYS: session. ARGV: now, idleTimeoutMs, touchIntervalMs, idleRule ('last-seen' or
 * 'refresh-token', see IdleRule).
 * Reads the whole hash and slides the idle expiry in the same round trip, never shorter than it
 * was and never past the absolute deadline; throttled by touchIntervalMs so busy sessions are not
 * rewritten each time. The idle rule is judged on last seen / refresh expiry as stored before the
 * slide; a session failing it is left alone (in hybrid mode the other credential may be alive).
 */
export const READ_AND_TOUCH: RedisScript = {
  name: 'sessionAuthReadAndTouch',
  numberOfKeys: 1,
  lua: `
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return false end
local now = tonumber(ARGV[1])
local lastSeenIndex, deadline, refreshExpiry
for i = 1, #fields, 2 do
  local name = fields[i]
  if name == 's' then lastSeenIndex = i + 1
  elseif name == 'a' then deadline = tonumber(fields[i + 1])
  elseif name == 'rx' then refreshExpiry = tonumber(fields[i + 1]) end
end
if lastSeenIndex == nil or deadline == nil then return false end
if now >= deadline then
  redis.call('DEL', KEYS[1])
  return false
end
local lastSeen = tonumber(fields[lastSeenIndex])
if ARGV[4] == 'refresh-token' then
  if refreshExpiry == nil or now >= refreshExpiry then return false end
elseif now >= lastSeen + tonumber(ARGV[2]) then
  return false
end
if now - lastSeen >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 's', ARGV[1])
  local ttl = math.min(tonumber(ARGV[2]), deadline - now)
  if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
  fields[lastSeenIndex] = ARGV[1]
end
return fields
`,
};

/**
 * KEYS: session, index. ARGV: ttlMs, now, indexMember ('' when anonymous), absoluteDeadline,
 * then field/value pairs. Creates the session, expiring at the earlier of ttl and deadline, and
 * for a user's session indexes it; entries past their absolute deadline are pruned on the way.
 */
export const CREATE: RedisScript = {
  name: 'sessionAuthCreate',
  numberOfKeys: 2,
  lua: `
local now = tonumber(ARGV[2])
local deadline = tonumber(ARGV[4])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.min(tonumber(ARGV[1]), deadline - now)))
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[2], deadline, ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('PTTL', KEYS[2]) < deadline - now then
    redis.call('PEXPIRE', KEYS[2], deadline - now)
  end
end
return 1
`,
};

/**
 * KEYS: session. ARGV: number of field/value pairs to set, the pairs, then fields to delete.
 * Writes only what changed; writes nothing if the session is gone, so a late write cannot
 * resurrect a destroyed session.
 */
export const PATCH: RedisScript = {
  name: 'sessionAuthPatch',
  numberOfKeys: 1,
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local count = tonumber(ARGV[1])
if count > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 2, 1 + count * 2)) end
if #ARGV > 1 + count * 2 then redis.call('HDEL', KEYS[1], unpack(ARGV, 2 + count * 2)) end
return 1
`,
};

/**
 * KEYS: old session, new session, index. ARGV: old digest, new digest.
 * Moves a session to a new token (RENAME keeps the TTL) and updates its index entry.
 */
export const RENAME: RedisScript = {
  name: 'sessionAuthRename',
  numberOfKeys: 3,
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
local handle = redis.call('HGET', KEYS[2], 'h')
local user = redis.call('HGET', KEYS[2], 'u')
if handle and user and user ~= '' then
  local score = redis.call('ZSCORE', KEYS[3], handle .. '.' .. ARGV[1])
  redis.call('ZREM', KEYS[3], handle .. '.' .. ARGV[1])
  redis.call('ZADD', KEYS[3], score or redis.call('HGET', KEYS[2], 'a'), handle .. '.' .. ARGV[2])
end
return 1
`,
};

/**
 * KEYS: index, then the sessions to destroy. ARGV: for each session its digest and its index
 * member ('' when unknown), then as last argument the user id the sessions must belong to
 * ('' for any). Destroys each session and drops its index entry, and drops entries whose
 * session has already expired; returns how many sessions existed.
 */
export const DESTROY: RedisScript = {
  name: 'sessionAuthDestroy',
  numberOfKeys: undefined,
  lua: `
local owner = ARGV[#ARGV]
local destroyed = 0
for i = 2, #KEYS do
  local digest, member = ARGV[2 * i - 3], ARGV[2 * i - 2]
  local handle = redis.call('HGET', KEYS[i], 'h')
  local user = redis.call('HGET', KEYS[i], 'u')
  if handle and (owner == '' or user == owner) then
    redis.call('DEL', KEYS[i])
    redis.call('ZREM', KEYS[1], handle .. '.' .. digest)
    destroyed = destroyed + 1
  elseif not handle and member ~= '' then
    redis.call('ZREM', KEYS[1], member)
  end
end
return destroyed
`,
};

/**
 * KEYS: index, then sessions. ARGV: the index members matching the sessions, in order.
 * Returns each session's fields (empty when gone) and prunes index entries of missing ones.
 */
export const READ_MANY: RedisScript = {
  name: 'sessionAuthReadMany',
  numberOfKeys: undefined,
  lua: `
local result = {}
for i = 2, #KEYS do
  local fields = redis.call('HGETALL', KEYS[i])
  if #fields == 0 then redis.call('ZREM', KEYS[1], ARGV[i - 1]) end
  result[i - 1] = fields
end
return result
`,
};

/**
 * KEYS: session, index. ARGV: presented digest, next digest, next expiry, now, idleTimeoutMs,
 * session digest, how many consumed digests to remember.
 * Refresh token rotation (RFC 9700 §4.14) in one atomic step: the current token is swapped for
 * the next one; a token the session already consumed destroys the session (reuse detection).
 * Consumed digests are kept in field rc, comma-terminated, newest last.
 */
export const ROTATE_REFRESH: RedisScript = {
  name: 'sessionAuthRotateRefresh',
  numberOfKeys: 2,
  lua: `
local state = redis.call('HMGET', KEYS[1], 'rt', 'rx', 'a', 'h', 'rc')
local current, deadline, handle, consumed = state[1], tonumber(state[3]), state[4], state[5] or ''
local now = tonumber(ARGV[4])
if not current or current == '' or not deadline or now >= deadline then return {'invalid'} end
if current ~= ARGV[1] then
  if ARGV[1] == '' or string.find(',' .. consumed, ',' .. ARGV[1] .. ',', 1, true) == nil then return {'invalid'} end
  redis.call('DEL', KEYS[1])
  if handle then redis.call('ZREM', KEYS[2], handle .. '.' .. ARGV[6]) end
  return {'reused'}
end
if tonumber(state[2]) <= now then return {'invalid'} end
local entries = {}
for entry in string.gmatch(consumed, '([^,]+),') do entries[#entries + 1] = entry end
entries[#entries + 1] = ARGV[1]
consumed = table.concat(entries, ',', math.max(1, #entries - tonumber(ARGV[7]) + 1)) .. ','
redis.call('HSET', KEYS[1], 'rt', ARGV[2], 'rx', ARGV[3], 's', ARGV[4], 'rc', consumed)
local ttl = math.min(tonumber(ARGV[5]), deadline - now)
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return {'rotated', redis.call('HGETALL', KEYS[1])}
`,
};

export const ALL_SCRIPTS = [READ_AND_TOUCH, CREATE, PATCH, RENAME, DESTROY, READ_MANY, ROTATE_REFRESH];
