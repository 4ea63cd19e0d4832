/**
 * The Lua scripts behind RedisSessionStore. Each runs atomically on keys that all carry the same
 * `{tag}` hash tag, so each script runs in one Redis Cluster slot. Most touch only keys given in
 * KEYS; CREATE (evicting a user's oldest sessions) and REVOKE_EPOCH (counting what it revokes)
 * also reach session keys they derive from the key prefix and the index members: the same slot,
 * which Redis and Redis Cluster allow, but servers that enforce declared keys strictly (e.g.
 * Dragonfly's default) would refuse it.
 *
 * Layout (see redis-session-store.ts): a session is a hash `<prefix>{tag}:s:<sha256(token)>`
 * with metadata fields (h handle, u user id, user, c created, s last seen, a absolute deadline,
 * ua, ip, db/dk the data's bytes and keys) and one `d:<name>` field per data key. A user's index is a sorted set
 * `<prefix>{tag}:u` of `<handle>.<digest>` scored by absolute deadline; the user's epoch
 * `<prefix>{tag}:g` is a random value each of the user's sessions copies into its field g, and
 * revoke-all replaces (see REVOKED_BY_EPOCH).
 *
 * The scripts that write a session are in redis-write-scripts.ts, those over a user's index in
 * redis-user-scripts.ts.
 */
import { CREATE, PATCH, RENAME } from './redis-write-scripts.js';
import { DESTROY, READ_MANY, REVOKE_EPOCH, REVOKED_BY_EPOCH } from './redis-user-scripts.js';

export { CREATE, DESTROY, PATCH, READ_MANY, RENAME, REVOKE_EPOCH };

export interface RedisScript {
  name: string;
  numberOfKeys: number | undefined;
  lua: string;
}

/**
 * KEYS: session, the user's epoch. ARGV: now, idleTimeoutMs, touchIntervalMs, idleRule
 * ('last-seen' or 'refresh-token', see IdleRule), cookieIdleTimeoutMs ('' when none, see TouchPolicy). A session revoked by the epoch is deleted.
 * Reads the whole hash and slides the idle expiry in the same round trip, never shorter than it
 * was and never past the absolute deadline; throttled by touchIntervalMs so busy sessions are not
 * rewritten each time. The idle rule is judged on last seen / refresh expiry as stored before the
 * slide; a session failing it is left alone (in hybrid mode the other credential may be alive).
 */
export const READ_AND_TOUCH: RedisScript = {
  name: 'sessionAuthReadAndTouch',
  numberOfKeys: 2,
  lua: `${REVOKED_BY_EPOCH}
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return false end
local now = tonumber(ARGV[1])
local lastSeenIndex, deadline, refreshExpiry, epoch
for i = 1, #fields, 2 do
  local name = fields[i]
  if name == 's' then lastSeenIndex = i + 1
  elseif name == 'a' then deadline = tonumber(fields[i + 1])
  elseif name == 'rx' then refreshExpiry = tonumber(fields[i + 1])
  elseif name == 'g' then epoch = fields[i + 1] end
end
if lastSeenIndex == nil or deadline == nil then return false end
if now >= deadline or revokedByEpoch(epoch, KEYS[2]) then
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
  if ARGV[5] == '' or now < lastSeen + tonumber(ARGV[5]) then
    redis.call('HSET', KEYS[1], 's', ARGV[1])
    fields[lastSeenIndex] = ARGV[1]
  end
  local ttl = math.min(tonumber(ARGV[2]), deadline - now)
  if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
end
return fields
`,
};

// Refresh token scripts (rotation, logout by refresh token) are in refresh-scripts.ts.
export const ALL_SCRIPTS = [READ_AND_TOUCH, CREATE, PATCH, RENAME, DESTROY, READ_MANY, REVOKE_EPOCH];
