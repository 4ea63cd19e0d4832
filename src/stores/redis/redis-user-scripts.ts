/** The Lua scripts over a user's index and epoch: list and destroy (layout: redis-scripts.ts). */
import type { RedisScript } from './redis-scripts.js';

/**
 * Lua: revoke-all must hold even when the index no longer names every session (its key evicted,
 * or lost in a failover). Each user has an epoch key `<prefix>{tag}:g`, a random value that every
 * session of the user copies into its field g at creation; revoke-all replaces it. A session whose
 * g is not the current epoch, or whose epoch key is gone, is revoked. Anonymous sessions have no g.
 */
export const REVOKED_BY_EPOCH = `
local function revokedByEpoch(sessionEpoch, epochKey)
  if not sessionEpoch or sessionEpoch == '' then return false end
  return redis.call('GET', epochKey) ~= sessionEpoch
end
`;

/**
 * KEYS: the user's epoch, the user's index, then optionally the session to keep. ARGV: the new
 * epoch, the key prefix of the user's sessions (`<prefix>{tag}:s:`), now.
 * Revokes every session of the user at once by replacing the epoch (keeping its TTL, which
 * already covers the user's longest-living session); the kept session, if still current, moves
 * to the new epoch. Returns how many of the sessions the index names it revoked, counted in the
 * same step (a concurrent read deletes a revoked session at once, so counting later would miss
 * it); the index is bounded by the per-user limit. Without an epoch key every session of the user
 * already reads as revoked: -1.
 */
export const REVOKE_EPOCH: RedisScript = {
  name: 'sessionAuthRevokeEpoch',
  numberOfKeys: undefined,
  lua: `
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
local keep = #KEYS > 2 and redis.call('HGET', KEYS[3], 'g') == current
local revoked = 0
for _, digest in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[3], '+inf')) do
  local key = ARGV[2] .. digest
  if not (keep and key == KEYS[3]) and redis.call('HGET', key, 'g') == current then revoked = revoked + 1 end
end
redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
if keep then redis.call('HSET', KEYS[3], 'g', ARGV[1]) end
return revoked
`,
};

/**
 * KEYS: index, then the sessions to destroy. ARGV: for each session its index member (the
 * digest in its key), then as last argument the user id the sessions must belong to ('' for
 * any). Destroys each session and drops its index entry, and drops entries whose session has
 * already expired; returns how many sessions existed.
 */
export const DESTROY: RedisScript = {
  name: 'sessionAuthDestroy',
  numberOfKeys: undefined,
  lua: `
local owner = ARGV[#ARGV]
local destroyed = 0
for i = 2, #KEYS do
  local member = ARGV[i - 1]
  local state = redis.call('HMGET', KEYS[i], 'h', 'u')
  if state[1] and (owner == '' or state[2] == owner) then
    redis.call('DEL', KEYS[i])
    redis.call('ZREM', KEYS[1], member)
    destroyed = destroyed + 1
  elseif not state[1] then
    redis.call('ZREM', KEYS[1], member)
  end
end
return destroyed
`,
};

/**
 * KEYS: index, the user's epoch, then sessions. ARGV: the index members matching the sessions,
 * in order. Returns each session's fields (empty when gone or revoked) and prunes index entries
 * of missing ones; a session revoked by the epoch is deleted on the way.
 */
export const READ_MANY: RedisScript = {
  name: 'sessionAuthReadMany',
  numberOfKeys: undefined,
  lua: `${REVOKED_BY_EPOCH}
local result = {}
for i = 3, #KEYS do
  local fields = redis.call('HGETALL', KEYS[i])
  if #fields > 0 and revokedByEpoch(redis.call('HGET', KEYS[i], 'g'), KEYS[2]) then
    redis.call('DEL', KEYS[i])
    fields = {}
  end
  if #fields == 0 then redis.call('ZREM', KEYS[1], ARGV[i - 2]) end
  result[i - 2] = fields
end
return result
`,
};

/**
 * KEYS: index. ARGV: the key prefix of the user's sessions (`<prefix>{tag}:s:`), a handle, the
 * first index entry to look at, how many. The index member (digest) of the session with that
 * handle among those entries; '' when none of them has it, false when the page is past the end.
 * Index members carry no handle (that keeps them short), so a lookup by handle reads the
 * sessions' h fields, a page per call: bounded work however large the index.
 */
export const FIND_BY_HANDLE: RedisScript = {
  name: 'sessionAuthFindByHandle',
  numberOfKeys: 1,
  lua: `
local from = tonumber(ARGV[3])
local members = redis.call('ZRANGE', KEYS[1], from, from + tonumber(ARGV[4]) - 1)
if #members == 0 then return false end
for _, digest in ipairs(members) do
  if redis.call('HGET', ARGV[1] .. digest, 'h') == ARGV[2] then return digest end
end
return ''
`,
};
