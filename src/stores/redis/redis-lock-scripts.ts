/**
 * The Lua scripts behind the Redis store's session locks (SessionLocks). A lock is a string key
 * `<prefix>{tag}:l:<session digest>:<name>` holding its owner's random value, taken with
 * `SET NX PX` and so always expiring with its lease; it shares the session's {tag}, so its slot.
 */
import type { RedisScript } from './redis-scripts.js';

/** KEYS: the lock. ARGV: owner. Compare-and-delete: frees the lock only while this owner holds it. */
export const RELEASE_LOCK: RedisScript = {
  name: 'sessionAuthReleaseLock',
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
};

/** KEYS: the lock. ARGV: owner, leaseMs. Compare-and-extend: 1 when this owner still held it. */
export const RENEW_LOCK: RedisScript = {
  name: 'sessionAuthRenewLock',
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`,
};

export const LOCK_SCRIPTS = [RELEASE_LOCK, RENEW_LOCK];
