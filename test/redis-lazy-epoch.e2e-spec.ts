/**
 * Revoke-all with a user's epoch key made lazily (redis-user-scripts.ts, REVOKED_BY_EPOCH): no
 * login creates it, the first revoke-all does. Sessions from before a revoke-all die, sessions
 * from after live, and a revoked session never comes back when the epoch key expires. Sessions
 * are taken out of the index first so that only the epoch can end them (as an index that lost
 * them, evicted or in a failover, leaves it): revoke-all deletes what the index names anyway.
 */
import { Redis } from 'ioredis';
import { newSessionToken, randomToken, refOf, type SessionRef } from '../src/core/session-token.js';
import { keyDigest } from '../src/stores/redis/redis-keys.js';
import { RedisSessionStore } from '../src/stores/redis/redis-session-store.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { makeRecord, peek, sleep, uniqueUserId } from './support/session-store-contract.js';
import { ownerOf, slotTagOf } from './support/user-refs.js';

/** Short absolute deadlines, so the epoch key a revoke-all makes expires within the test. */
const ABSOLUTE_MS = 2_000;
/** Generous: the epoch key lives about ABSOLUTE_MS; this only stops a wait that cannot end. */
const EXPIRY_WAIT_LIMIT_MS = 8_000;

describe('Redis revoke-all with a lazily created epoch key', () => {
  let server: RedisServerHandle;
  let inspector: Redis;
  let store: RedisSessionStore;
  const keyPrefix = 'lazy:';

  beforeAll(async () => {
    server = await startRedisServer();
    inspector = new Redis(server.url, { maxRetriesPerRequest: 1 });
    store = new RedisSessionStore({ url: server.url, keyPrefix });
  });

  afterAll(async () => {
    await store?.close();
    inspector?.disconnect();
    await server?.stop();
  });

  /** A session of the user with an absolute deadline `lifetimeMs` from now, left out of the index. */
  async function unindexedSession(userId: string, lifetimeMs: number): Promise<SessionRef> {
    const tag = slotTagOf(userId);
    const ref = refOf(newSessionToken(tag));
    const now = Date.now();
    await store.create(ref, makeRecord(userId, { createdAt: now, lastSeenAt: now, absoluteExpiresAt: now + lifetimeMs }), lifetimeMs);
    expect(await inspector.zrem(`${keyPrefix}{${tag}}:u`, keyDigest(ref))).toBe(1);
    return ref;
  }

  async function waitUntilGone(key: string): Promise<number> {
    const started = Date.now();
    while ((await inspector.exists(key)) === 1) {
      if (Date.now() - started > EXPIRY_WAIT_LIMIT_MS) throw new Error(`${key} did not expire within ${EXPIRY_WAIT_LIMIT_MS} ms`);
      await sleep(50);
    }
    return Date.now() - started;
  }

  it('ends the sessions from before a revoke-all, keeps those from after, and revives none when the epoch key expires', async () => {
    const userId = uniqueUserId();
    const tag = slotTagOf(userId);
    const epochKey = `${keyPrefix}{${tag}}:g`;
    // The index key outlives every session below: it must stay, so revoke-all takes its TTL.
    const anchor = refOf(newSessionToken(tag));
    const now = Date.now();
    await store.create(anchor, makeRecord(userId, { createdAt: now, lastSeenAt: now, absoluteExpiresAt: now + ABSOLUTE_MS }), ABSOLUTE_MS);
    const checkedAtOnce = await unindexedSession(userId, ABSOLUTE_MS);
    const checkedAfterExpiry = await unindexedSession(userId, ABSOLUTE_MS);
    // Logins make no epoch key.
    expect(await inspector.exists(epochKey)).toBe(0);
    expect(await store.read(checkedAtOnce, peek())).not.toBeNull();

    await store.destroyByUser(ownerOf(userId));

    expect(await inspector.exists(epochKey)).toBe(1);
    expect(await store.read(checkedAtOnce, peek())).toBeNull();
    const after = refOf(newSessionToken(tag));
    const createdAfter = Date.now();
    await store.create(after, makeRecord(userId, { createdAt: createdAfter, lastSeenAt: createdAfter, absoluteExpiresAt: createdAfter + ABSOLUTE_MS }), ABSOLUTE_MS);
    expect(await store.read(after, peek())).not.toBeNull();
    // A second revoke-all ends the session that carries the first one's epoch.
    const afterFirst = await unindexedSession(userId, ABSOLUTE_MS);
    await store.destroyByUser(ownerOf(userId));
    expect(await store.read(afterFirst, peek())).toBeNull();
    expect(await store.read(after, peek())).toBeNull();
    // Only sessions with an ABSOLUTE_MS deadline are left unread: the epoch key now lives about that long.
    const epochTtl = await inspector.pttl(epochKey);
    expect(epochTtl).toBeGreaterThan(0);
    expect(epochTtl).toBeLessThanOrEqual(ABSOLUTE_MS);

    await waitUntilGone(epochKey);

    // With the key gone, a session without an epoch would pass the epoch check: it must be past its deadline by now.
    expect(await store.read(checkedAfterExpiry, peek())).toBeNull();
    const fresh = refOf(newSessionToken(tag));
    await store.create(fresh, makeRecord(userId), 60_000);
    expect(await store.read(fresh, peek())).not.toBeNull();
    expect(await inspector.exists(epochKey)).toBe(0);
  });

  it('keeps the named session through a first revoke-all, which carries it to the new epoch', async () => {
    const userId = uniqueUserId();
    const tag = slotTagOf(userId);
    const kept = refOf(newSessionToken(tag));
    const keptRecord = makeRecord(userId, { handle: randomToken(16) });
    await store.create(kept, keptRecord, 60_000);
    const other = await unindexedSession(userId, 60_000);

    await store.destroyByUser(ownerOf(userId), keptRecord.handle);

    expect(await store.read(other, peek())).toBeNull();
    expect(await store.read(kept, peek())).toEqual(keptRecord);
    expect(await inspector.hget(`${keyPrefix}{${tag}}:s:${keyDigest(kept)}`, 'g')).toBe(await inspector.get(`${keyPrefix}{${tag}}:g`));
  });
});
