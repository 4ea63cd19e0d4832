/** The Lua scripts over a user's index: list and destroy (layout: redis-scripts.ts). */
import type { RedisScript } from './redis-scripts.js';

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
