/**
 * The Lua scripts behind RedisSessionStore. Each runs atomically on keys that all carry the same
 * `{tag}` hash tag, so each script runs in one Redis Cluster slot. Most touch only keys given in
 * KEYS; CREATE (evicting a user's oldest sessions) and REVOKE_EPOCH (counting what it revokes)
 * also reach session keys they derive from the key prefix and the index members: the same slot,
 * which Redis and Redis Cluster allow, but servers that enforce declared keys strictly (e.g.
 * Dragonfly's default) would refuse it.
 *
 * Layout (see redis-session-store.ts), kept small so every key stays in Redis' compact listpack
 * encoding: a session is a hash `<prefix>{tag}:s:<digest>`, digest the first 8 characters (KEY_DIGEST_LENGTH) of
 * the token's base64url SHA-256, with metadata fields (h handle, c created, s last seen,
 * a absolute deadline, integer milliseconds, s and a (and p) counted from c, s and p left out
 * while 0 (p only when n is there); u user id, j the
 * user as JSON or k the same without its leading id (see redis-record.ts), b user agent,
 * i ip (an IPv4 address as one integer), p/n password proof time and login name, g the user's
 * epoch when the session was created after a revoke-all; rt... refresh fields, see
 * refresh-scripts.ts; db/dk the data's bytes and keys, only once the data is large), empty ones
 * left out, and one `.<name>` field per data key. A user's index is a sorted set
 * `<prefix>{tag}:u` of session digests scored by absolute deadline; the user's epoch
 * `<prefix>{tag}:g`, made only by revoke-all, is a random value each session created while it
 * exists copies into its field g, and the next revoke-all replaces (see REVOKED_BY_EPOCH).
 *
 * The scripts that write a session are in redis-write-scripts.ts, those over a user's index in
 * redis-user-scripts.ts.
 */
import { SessionStoreUnavailableError } from '../../core/errors.js';
import type { TouchPolicy } from '../../core/session-store.js';
import { CREATE, PATCH, RENAME } from './redis-write-scripts.js';
import { DESTROY, FIND_BY_HANDLE, READ_MANY, REVOKE_EPOCH, REVOKED_BY_EPOCH } from './redis-user-scripts.js';

export { CREATE, DESTROY, FIND_BY_HANDLE, PATCH, READ_MANY, RENAME, REVOKE_EPOCH };

export interface RedisScript {
  name: string;
  numberOfKeys: number | undefined;
  lua: string;
}

/** The slid TTL of a read: the idle timeout from now, cut at the absolute deadline. */
const READ_TTL = 'math.min(tonumber(ARGV[2]), deadline - now)';

/**
 * KEYS: session, the user's epoch. ARGV: now, idleTimeoutMs, touchIntervalMs, idleRule
 * ('last-seen' or 'refresh-token', see IdleRule), cookieIdleTimeoutMs ('' when none, see TouchPolicy). A session revoked by the epoch is deleted.
 * Reads the whole hash and slides the idle expiry in the same round trip, never shorter than it
 * was and never past the absolute deadline; throttled by touchIntervalMs so busy sessions are not
 * rewritten each time. The idle rule is judged on last seen / refresh expiry as stored before the
 * slide; a session failing it is left alone (in hybrid mode the other credential may be alive).
 */
const readAndTouchLua = (answer: string, ttl = READ_TTL): string => `${REVOKED_BY_EPOCH}
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return false end
local now = tonumber(ARGV[1])
local lastSeenIndex, created, deadline, refreshExpiry, epoch
for i = 1, #fields, 2 do
  local name = fields[i]
  if name == 's' then lastSeenIndex = i + 1
  elseif name == 'c' then created = tonumber(fields[i + 1])
  elseif name == 'a' then deadline = tonumber(fields[i + 1])
  elseif name == 'rx' then refreshExpiry = tonumber(fields[i + 1])
  elseif name == 'g' then epoch = fields[i + 1] end
end
if created == nil or deadline == nil then return false end
deadline = created + deadline
if now >= deadline or revokedByEpoch(epoch, KEYS[2]) then
  redis.call('DEL', KEYS[1])
  return false
end
-- No s: not seen since its creation (redis-record.ts leaves a zero out).
local lastSeen = created + (lastSeenIndex and tonumber(fields[lastSeenIndex]) or 0)
if ARGV[4] == 'refresh-token' then
  if refreshExpiry == nil or now >= refreshExpiry then return false end
elseif now >= lastSeen + tonumber(ARGV[2]) then
  return false
end
if now - lastSeen >= tonumber(ARGV[3]) then
  if ARGV[5] == '' or now < lastSeen + tonumber(ARGV[5]) then
    redis.call('HSET', KEYS[1], 's', now - created)
    if lastSeenIndex then
      fields[lastSeenIndex] = tostring(now - created)
    else
      fields[#fields + 1] = 's'
      fields[#fields + 1] = tostring(now - created)
    end
  end
  local ttl = ${ttl}
  if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
end
${answer}
`;

/** ARGV of READ_AND_TOUCH, READ_FOR_CACHE and SLIDE after their two keys. */
export function touchArguments(touch: TouchPolicy): Array<string | number> {
  return [touch.now, touch.idleTimeoutMs, touch.touchIntervalMs, touch.idleRule ?? 'last-seen', touch.cookieIdleTimeoutMs ?? ''];
}

/**
 * The fields come back as one JSON text (a flat array, as HGETALL gives them; see repliedFields):
 * ioredis turns one bulk string into a JS string far more cheaply than a 20-element array reply,
 * and this read is on every guarded request.
 */
export const READ_AND_TOUCH: RedisScript = { name: 'sessionAuthReadAndTouch', numberOfKeys: 2, lua: readAndTouchLua('return cjson.encode(fields)') };

/** READ_AND_TOUCH for the near cache: the fields and the key's PTTL after the slide, so the cache never outlives the key. */
export const READ_FOR_CACHE: RedisScript = {
  name: 'sessionAuthReadForCache',
  numberOfKeys: 2,
  lua: readAndTouchLua("return {cjson.encode(fields), redis.call('PTTL', KEYS[1])}"),
};

/**
 * The flat field list READ_AND_TOUCH and READ_FOR_CACHE answer as JSON; null when there is no
 * session. A reply that is not such a list (a Redis-compatible server that answers the script
 * differently) is the store failing, not a bug of the request: 503, never 500.
 */
export function repliedFields(reply: unknown): string[] | null {
  if (reply === null) return null;
  let fields: unknown;
  try {
    fields = typeof reply === 'string' ? JSON.parse(reply) : undefined;
  } catch {
    fields = undefined;
  }
  if (Array.isArray(fields) && fields.every((field) => typeof field === 'string')) return fields;
  throw new SessionStoreUnavailableError('read', new Error('the session read script answered something other than a JSON list of fields'));
}

/**
 * READ_AND_TOUCH without the answer: a written-behind slide of a read the near cache served,
 * judged at the read's time (ARGV[1]). Its TTL is counted from ARGV[6], the flush time (see
 * slideArguments): the key ends where the read's own slide would have ended it (read time + idle
 * timeout, or the absolute deadline if sooner), not the wait for the flush later. The app's clock,
 * as for every time the store writes; Redis' TIME would bring in the skew between the two.
 */
export const SLIDE: RedisScript = {
  name: 'sessionAuthSlide',
  numberOfKeys: 2,
  lua: readAndTouchLua('return 1', 'math.min(now + tonumber(ARGV[2]), deadline) - tonumber(ARGV[6])'),
};

/** ARGV of SLIDE after its two keys: the read's touch arguments, then the time of the flush. */
export function slideArguments(touch: TouchPolicy, flushedAt: number): Array<string | number> {
  return [...touchArguments(touch), flushedAt];
}

// Refresh token scripts (rotation, logout by refresh token) are in refresh-scripts.ts.
export const ALL_SCRIPTS = [READ_AND_TOUCH, READ_FOR_CACHE, SLIDE, CREATE, PATCH, RENAME, DESTROY, READ_MANY, REVOKE_EPOCH, FIND_BY_HANDLE];
