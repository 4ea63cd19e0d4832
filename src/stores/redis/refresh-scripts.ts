import type { RedisScript } from './redis-scripts.js';
import { REVOKED_BY_EPOCH } from './redis-user-scripts.js';

/**
 * The Lua scripts for refresh token families, beside the session scripts in redis-scripts.ts
 * and with the same layout. Refresh fields of a session hash: rt current digest, rx its expiry,
 * rc consumed digests (comma-terminated, newest last); while a grace window lasts, rp the digest
 * consumed last, rg the window's end, rn the digest that replaced it, rb that successor sealed to
 * the consumed token (opaque here).
 */

/**
 * KEYS: session, index, the user's epoch. ARGV: presented digest, next digest, next expiry, now, idleTimeoutMs,
 * session digest, how many consumed digests to remember, grace window ms (0: off), sealed next,
 * cookieIdleTimeoutMs ('' when none, see TouchPolicy).
 * Refresh token rotation (RFC 9700 §4.14) in one atomic step: the current token is swapped for
 * the next one; a token the session already consumed destroys the session (reuse detection),
 * unless it is the one consumed last, inside its grace window, and its successor is still
 * current: then the sealed successor is handed back and nothing changes ('replayed').
 */
export const ROTATE_REFRESH: RedisScript = {
  name: 'sessionAuthRotateRefresh',
  numberOfKeys: 3,
  lua: `${REVOKED_BY_EPOCH}
if revokedByEpoch(redis.call('HGET', KEYS[1], 'g'), KEYS[3]) then return {'invalid'} end
local state = redis.call('HMGET', KEYS[1], 'rt', 'rx', 'a', 'h', 'rc', 'rp', 'rg', 'rn', 'rb', 's', 'c')
local current, created, handle, consumed = state[1], tonumber(state[11]), state[4], state[5] or ''
local deadline = created and tonumber(state[3]) and created + tonumber(state[3])
local now = tonumber(ARGV[4])
if not current or current == '' or not deadline or now >= deadline then return {'invalid'} end
if current ~= ARGV[1] then
  if state[6] and state[6] == ARGV[1] and now < (tonumber(state[7]) or 0) and state[8] == current and state[9] then
    return {'replayed', redis.call('HGETALL', KEYS[1]), state[9]}
  end
  if ARGV[1] == '' or string.find(',' .. consumed, ',' .. ARGV[1] .. ',', 1, true) == nil then return {'invalid'} end
  redis.call('DEL', KEYS[1])
  if handle then redis.call('ZREM', KEYS[2], ARGV[6]) end
  return {'reused'}
end
if tonumber(state[2]) <= now then return {'invalid'} end
local entries = {}
for entry in string.gmatch(consumed, '([^,]+),') do entries[#entries + 1] = entry end
entries[#entries + 1] = ARGV[1]
consumed = table.concat(entries, ',', math.max(1, #entries - tonumber(ARGV[7]) + 1)) .. ','
redis.call('HSET', KEYS[1], 'rt', ARGV[2], 'rx', ARGV[3], 'rc', consumed)
-- A refresh is the cookie's activity only while the cookie lives (hybrid): it never revives an idle one.
if ARGV[10] == '' or now < created + (tonumber(state[10]) or 0) + tonumber(ARGV[10]) then redis.call('HSET', KEYS[1], 's', now - created) end
if tonumber(ARGV[8]) > 0 then
  redis.call('HSET', KEYS[1], 'rp', ARGV[1], 'rg', now + tonumber(ARGV[8]), 'rn', ARGV[2], 'rb', ARGV[9])
else
  redis.call('HDEL', KEYS[1], 'rp', 'rg', 'rn', 'rb')
end
local ttl = math.min(tonumber(ARGV[5]), deadline - now)
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return {'rotated', redis.call('HGETALL', KEYS[1])}
`,
};

/**
 * KEYS: session, index. ARGV: presented refresh digest, session digest.
 * Logout by refresh token: compares the presented digest with the current one and those the
 * session consumed, and destroys the session and its index entry in the same step, so no read
 * (and no idle slide) happens for a token that does not match. Returns the fields as they were,
 * or false.
 */
export const DESTROY_BY_REFRESH: RedisScript = {
  name: 'sessionAuthDestroyByRefresh',
  numberOfKeys: 2,
  lua: `
local state = redis.call('HMGET', KEYS[1], 'rt', 'h', 'rc')
if not state[1] or state[1] == '' or ARGV[1] == '' then return false end
if state[1] ~= ARGV[1] and string.find(',' .. (state[3] or ''), ',' .. ARGV[1] .. ',', 1, true) == nil then return false end
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
if state[2] then redis.call('ZREM', KEYS[2], ARGV[2]) end
return fields
`,
};

export const REFRESH_SCRIPTS = [ROTATE_REFRESH, DESTROY_BY_REFRESH];
