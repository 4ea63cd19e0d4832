/** The Lua scripts over a user's index and epoch: list and destroy (layout: redis-scripts.ts). */
import type { RedisScript } from './redis-scripts.js';

/**
 * Lua: revoke-all must hold even when the index no longer names every session (its key evicted,
 * or lost in a failover). Each user may have an epoch key `<prefix>{tag}:g`, a random value, made
 * lazily: only revoke-all creates it (a user's lone session then pays for no key of its own). A
 * session created while the key exists copies it into its field g and stretches the key's TTL to
 * its own deadline; one created while there is none stores no g. So a session with g is alive
 * only while the key exists and equals its g; one without g only while there is no key.
 *
 * Why an expiring epoch key never revives a revoked session: revoke-all sets a fresh value that
 * no session holds, so every session with g dies; and it makes the key live at least as long as
 * the user's index (whose TTL covers every session's deadline, see CREATE) and as the key already
 * did (which covers every session with g), so every session without g stays dead until its
 * absolute deadline has passed. A session without g needs the key absent, and by the time it is
 * absent again that session is past its deadline (its key expired, and the scripts refuse it on
 * the deadline anyway); a session with g = e1 needs the key to equal e1, which a key gone and made
 * again by a later revoke-all never does (random, 48 bits). Anonymous sessions have no g and a
 * random tag of their own, whose epoch key no revoke-all ever creates.
 */
export const REVOKED_BY_EPOCH = `
local function revokedByEpoch(sessionEpoch, epochKey)
  local current = redis.call('GET', epochKey)
  if not sessionEpoch or sessionEpoch == '' then return current ~= false end
  return current ~= sessionEpoch
end
`;

/**
 * When revoke-all finds neither an epoch key nor an index key (both lost: evicted, or a failover
 * that lost writes), nothing tells how long the user's sessions may still live: the new epoch key
 * then lives this long, longer than any absolute timeout a cookie can carry (400 days).
 */
export const EPOCH_TTL_WITHOUT_INDEX_MS = 400 * 24 * 3600 * 1000;

/**
 * KEYS: the user's epoch, the user's index, then optionally the session to keep. ARGV: the new
 * epoch, the key prefix of the user's sessions (`<prefix>{tag}:s:`), now, the TTL when nothing
 * tells it (EPOCH_TTL_WITHOUT_INDEX_MS).
 * Revokes every session of the user at once by setting a fresh epoch (creating the key if there
 * is none), living at least as long as the index and the old epoch key (see REVOKED_BY_EPOCH);
 * the kept session, if still current, moves to the new epoch. Returns how many of the sessions
 * the index names it revoked, counted in the same step (a concurrent read deletes a revoked
 * session at once, so counting later would miss it); the index is bounded by the per-user limit.
 */
export const REVOKE_EPOCH: RedisScript = {
  name: 'sessionAuthRevokeEpoch',
  numberOfKeys: undefined,
  lua: `
local current = redis.call('GET', KEYS[1]) or ''
local function isCurrent(key)
  local state = redis.call('HMGET', key, 'h', 'g')
  return state[1] ~= false and (state[2] or '') == current
end
local keep = #KEYS > 2 and isCurrent(KEYS[3])
local revoked = 0
for _, digest in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[3], '+inf')) do
  local key = ARGV[2] .. digest
  if not (keep and key == KEYS[3]) and isCurrent(key) then revoked = revoked + 1 end
end
local ttl = math.max(redis.call('PTTL', KEYS[1]), redis.call('PTTL', KEYS[2]))
if ttl <= 0 then ttl = tonumber(ARGV[4]) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
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
