import type { RedisScript } from './redis-scripts.js';

/**
 * The Lua scripts for refresh token families, beside the session scripts in redis-scripts.ts
 * and with the same layout: current refresh digest in field rt, handle in h.
 */

/**
 * KEYS: session, index. ARGV: presented refresh digest, session digest.
 * Logout by refresh token: compares the presented digest with the current one and destroys the
 * session and its index entry in the same step, so no read (and no idle slide) happens for a
 * token that does not match. Returns the fields as they were, or false.
 */
export const DESTROY_BY_REFRESH: RedisScript = {
  name: 'sessionAuthDestroyByRefresh',
  numberOfKeys: 2,
  lua: `
local state = redis.call('HMGET', KEYS[1], 'rt', 'h')
if not state[1] or state[1] == '' or state[1] ~= ARGV[1] then return false end
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
if state[2] then redis.call('ZREM', KEYS[2], state[2] .. '.' .. ARGV[2]) end
return fields
`,
};

export const REFRESH_SCRIPTS = [DESTROY_BY_REFRESH];
