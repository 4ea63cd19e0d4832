/**
 * The Redis store's near cache (`nearCache`) on a private redis-server, with several store
 * instances, each with its own ioredis connections, standing in for app instances: what one
 * changes, the others stop serving from memory (measured), nothing is served that Redis would
 * refuse, slides are written behind, and a broken or lagging invalidation channel flushes the
 * cache until it is back.
 */
import { jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { SessionConfigurationError } from '../src/core/errors.js';
import { newSessionToken, randomToken, refOf, type SessionRef } from '../src/core/session-token.js';
import type { SessionRecord, TouchPolicy } from '../src/core/session-store.js';
import type { NearCacheOptions } from '../src/core/store-options.js';
import { RedisSessionStore, type RedisSessionStoreOptions } from '../src/stores/redis/redis-session-store.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { describeSessionStoreContract, makeRecord, peek, uniqueUserId } from './support/session-store-contract.js';
import { ownerOf, slotTagOf } from './support/user-refs.js';
import type { INestApplication } from '@nestjs/common';
import { SessionStore } from '../src/index.js';
import { createTestApp } from './support/test-app.js';
import { readDemoConfig } from '../src/demo/demo-config.js';
import { http, login } from './support/http-helpers.js';

const HOUR = 3_600_000;
/** Issue 9's target for a revocation to reach every instance; the assertion is looser, the measurement is printed. */
const INVALIDATION_TARGET_MS = 50;
const INVALIDATION_BOUND_MS = 1_000;
// Lag bound generous for a loaded CI machine: an event loop stalled past it would turn a hit into a miss.
const FAST_CHANNEL: NearCacheOptions = { maxEntries: 1000, writeBehindMs: 50, heartbeatIntervalMs: 50, maxLagMs: 1000 };

let server: RedisServerHandle;
let inspector: Redis;
const stores: RedisSessionStore[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  inspector = new Redis(server.url, { maxRetriesPerRequest: 1 });
});

afterEach(async () => {
  jest.restoreAllMocks();
  await inspector.client('UNPAUSE');
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

afterAll(async () => {
  inspector?.disconnect();
  await server?.stop();
});

/** Resolves once `condition` holds, polling every tick; rejects after `withinMs`. Answers how long it took. */
async function waitFor(what: string, condition: () => boolean | Promise<boolean>, withinMs = 5_000): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return performance.now() - started;
}

/** `count` store instances on one prefix, as app instances of one deployment, each with its cache serving. */
async function instances(count: number, nearCache: NearCacheOptions = FAST_CHANNEL, options: Partial<RedisSessionStoreOptions> = {}): Promise<RedisSessionStore[]> {
  const keyPrefix = `nc-${randomToken(6).replace(/[^A-Za-z0-9]/g, 'x')}:`;
  const made = Array.from({ length: count }, () => new RedisSessionStore({ url: server.url, keyPrefix, nearCache, ...options }));
  stores.push(...made);
  await Promise.all(made.map((store) => waitFor('near cache serving', () => store.nearCacheStats()!.serving)));
  return made;
}

/** A user's session created through `store`, read once through each of `readers` so they hold it in memory. */
async function cachedSession(store: RedisSessionStore, readers: RedisSessionStore[], overrides: Partial<SessionRecord> = {}, ttlMs = HOUR) {
  const userId = uniqueUserId();
  const ref = refOf(newSessionToken(slotTagOf(userId)));
  const record = makeRecord(userId, overrides);
  await store.create(ref, record, ttlMs);
  for (const reader of readers) await expectServedFromMemory(reader, ref);
  return { userId, ref, record };
}

/** Reads twice: the second read must be a hit (served from memory), and both must find the session. */
async function expectServedFromMemory(store: RedisSessionStore, ref: SessionRef, touch: TouchPolicy = peek()): Promise<SessionRecord> {
  expect(await store.read(ref, touch)).not.toBeNull();
  const hits = store.nearCacheStats()!.hits;
  const record = await store.read(ref, touch);
  expect(store.nearCacheStats()!.hits).toBe(hits + 1);
  expect(record).not.toBeNull();
  return record!;
}

const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

/** The session's key in Redis, found by its slot tag. */
async function keyOf(ref: SessionRef): Promise<string> {
  return (await inspector.keys(`*{${ref.tag}}:s:*`))[0];
}

/** Last seen as Redis stores it: relative to the creation time `c`, left out while 0. */
async function lastSeenInRedis(key: string): Promise<number> {
  return (await inspector.hmget(key, 'c', 's')).reduce((sum, value) => sum + Number(value ?? 0), 0);
}

/** How long until every reader stops finding the session; printed per reader. */
async function timeUntilRefused(label: string, readers: RedisSessionStore[], ref: SessionRef): Promise<number[]> {
  const elapsed = await Promise.all(
    readers.map((reader) => waitFor(`${label} refused`, async () => (await reader.read(ref, peek())) === null, INVALIDATION_BOUND_MS)),
  );
  console.log(`near cache: ${label} refused on every other instance after ${elapsed.map((ms) => ms.toFixed(1)).join(', ')} ms (target ≤ ${INVALIDATION_TARGET_MS} ms)`);
  return elapsed;
}

describe('near cache across instances', () => {
  it('a logout on one instance is refused on every other within the bound (measured)', async () => {
    const [a, b, c] = await instances(3);
    const { ref } = await cachedSession(a, [b, c]);

    await a.destroy(ref);

    for (const ms of await timeUntilRefused('logout', [b, c], ref)) expect(ms).toBeLessThan(INVALIDATION_BOUND_MS);
  });

  it('a revocation by handle, a rotation and a refresh-token logout on one instance are refused on the others', async () => {
    const [a, b] = await instances(2);
    const revoked = await cachedSession(a, [b]);
    expect(await a.destroyByHandle(ownerOf(revoked.userId), revoked.record.handle)).toBe(true);
    await timeUntilRefused('revocation by handle', [b], revoked.ref);

    const rotated = await cachedSession(a, [b]);
    const next = refOf(newSessionToken(rotated.ref.tag));
    expect(await a.rename(rotated.ref, next)).toBe(true);
    await timeUntilRefused('rotation (old token)', [b], rotated.ref);
    expect(await b.read(next, peek())).not.toBeNull();

    const refresh = { digest: randomToken(), expiresAt: Date.now() + HOUR };
    const family = await cachedSession(a, [b], { refresh });
    expect(await a.destroyByRefreshToken(family.ref, refresh.digest)).not.toBeNull();
    await timeUntilRefused('refresh-token logout', [b], family.ref);
  });

  it('revoke-all on one instance is refused on the others, also for sessions the index no longer names (epoch only)', async () => {
    const [a, b] = await instances(2);
    const first = await cachedSession(a, [b]);
    const second = { ref: refOf(newSessionToken(first.ref.tag)) };
    await a.create(second.ref, makeRecord(first.userId), HOUR);
    await expectServedFromMemory(b, second.ref);
    // Only the epoch changes now: no session key is written, so only its invalidation can evict them.
    const keys = await inspector.keys(`*{${first.ref.tag}}:u`);
    expect(keys).toHaveLength(1);
    await inspector.del(keys[0]);

    await a.destroyByUser(ownerOf(first.userId));

    await timeUntilRefused('revoke-all (epoch)', [b], first.ref);
    await timeUntilRefused('revoke-all (epoch)', [b], second.ref);
  });

  it('data written on one instance is seen on the others', async () => {
    const [a, b, c] = await instances(3);
    const { ref } = await cachedSession(a, [b, c]);

    expect(await a.update(ref, { data: { cart: '["sku-1"]' } })).toBe(true);

    for (const reader of [b, c]) {
      await waitFor('data seen', async () => (await reader.read(ref, peek()))?.data.cart === '["sku-1"]', INVALIDATION_BOUND_MS);
    }
    // And what the writer itself reads next is the new data at once.
    expect((await a.read(ref, peek()))?.data).toEqual({ cart: '["sku-1"]' });
  });

  it('never serves past the idle timeout or the absolute deadline, judged as Redis would', async () => {
    const [a, b] = await instances(2);
    const { ref, record } = await cachedSession(a, [b]);

    expect(await b.read(ref, peek({ now: record.lastSeenAt + HOUR }))).toBeNull();
    expect(await b.read(ref, peek({ now: record.absoluteExpiresAt, idleTimeoutMs: 2 * HOUR }))).toBeNull();
    // Bearer reads: the refresh token's expiry is the idle rule.
    expect(await b.read(ref, peek({ idleRule: 'refresh-token' }))).toBeNull();
  });

  it('writes idle-expiry slides behind, never past the absolute deadline', async () => {
    const [a, b] = await instances(2, { ...FAST_CHANNEL, writeBehindMs: 200 });
    const start = Date.now();
    const sessions = [];
    const deadline = start + 30_000;
    for (let i = 0; i < 3; i++) sessions.push(await cachedSession(a, [b], { absoluteExpiresAt: deadline }, 5_000));
    const slid = start + 1_000;
    const touch = { now: slid, idleTimeoutMs: HOUR, touchIntervalMs: 500 };

    for (const { ref } of sessions) expect((await b.read(ref, touch))?.lastSeenAt).toBe(slid);
    // Served from memory: three hits more than the three of cachedSession.
    expect(b.nearCacheStats()!.hits).toBe(6);

    const keys = await Promise.all(sessions.map(async ({ ref }) => (await inspector.keys(`*{${ref.tag}}:s:*`))[0]));
    // Last seen is stored relative to the creation time `c`.
    const lastSeenOf = async (key: string) => (await inspector.hmget(key, 'c', 's')).reduce((sum, value) => sum + Number(value), 0);
    await waitFor('slides written', async () => (await Promise.all(keys.map(lastSeenOf))).every((lastSeen) => lastSeen === slid));
    for (const key of keys) {
      // Slid from 5 s to the idle timeout (an hour), cut at the absolute deadline; counted from the
      // flush, so the pipeline's way to Redis (a millisecond or two) comes on top.
      const ttl = await inspector.pttl(key);
      expect(ttl).toBeGreaterThan(5_000);
      expect(Date.now() + ttl).toBeLessThanOrEqual(deadline + 20);
    }
  });
});

describe('near cache in Nest apps', () => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('a session logged out through one app (express) is refused by another (fastify) that served it from memory', async () => {
    const store = { type: 'redis' as const, url: server.url, keyPrefix: `nc-app-${randomToken(4).replace(/[^A-Za-z0-9]/g, 'x')}:`, nearCache: FAST_CHANNEL };
    const [one, two] = [await createTestApp({ adapter: 'express', session: { store } }), await createTestApp({ adapter: 'fastify', session: { store } })];
    apps.push(one, two);
    const stats = (app: INestApplication) => app.get<RedisSessionStore>(SessionStore).nearCacheStats()!;
    await waitFor('both serving', () => stats(one).serving && stats(two).serving);
    const { cookie } = await login(one, 'alice');
    const me = () => http(two).get('/auth/me').set('Cookie', cookie);
    expect((await me()).status).toBe(200);
    const hits = stats(two).hits;
    expect((await me()).status).toBe(200);
    expect(stats(two).hits).toBe(hits + 1);

    expect((await http(one).post('/auth/logout').set('Cookie', cookie)).status).toBe(204);

    await waitFor('logout seen by the other app', async () => (await me()).status === 401, INVALIDATION_BOUND_MS);
  });
});

describe('near cache fails closed', () => {
  it('flushes and reads from Redis while its invalidation connection is killed, then serves again', async () => {
    const [a, b] = await instances(2);
    const { ref } = await cachedSession(a, [b]);
    const killed = b.nearCacheStats()!.invalidationClientId!;

    await inspector.client('KILL', 'ID', String(killed));
    // Written while b hears nothing: only flushing on the loss keeps b from serving the old data later.
    expect(await a.update(ref, { data: { step: '"after-kill"' } })).toBe(true);

    await waitFor('b back', () => {
      const stats = b.nearCacheStats()!;
      return stats.serving && stats.invalidationClientId !== null && stats.invalidationClientId !== killed;
    });
    expect((await expectServedFromMemory(b, ref)).data).toEqual({ step: '"after-kill"' });
    // Coherent again.
    await a.destroy(ref);
    await timeUntilRefused('logout after the channel came back', [b], ref);
  });

  it('stops serving from memory when heartbeats lag past maxLagMs, and serves again once they arrive', async () => {
    const [a, b] = await instances(2);
    const { ref } = await cachedSession(a, [b]);

    // Writes wait, the heartbeat among them: the channel can no longer prove it is fresh.
    await inspector.client('PAUSE', '10000', 'WRITE');
    const lagged = await waitFor('b stops serving', () => !b.nearCacheStats()!.serving);
    expect(b.nearCacheStats()!.entries).toBe(0);
    expect(lagged).toBeLessThan(FAST_CHANNEL.maxLagMs! + 1_000);
    await inspector.client('UNPAUSE');

    await waitFor('b serving again', () => b.nearCacheStats()!.serving);
    await expectServedFromMemory(b, ref);
  });

  it('stops serving when heartbeats lag past maxLagMs, also when the wall clock steps back meanwhile', async () => {
    const [store] = await instances(1);
    await cachedSession(store, [store]);
    // Heartbeats wait from now on; one sent before the clock steps is outstanding.
    await inspector.client('PAUSE', '10000', 'WRITE');
    await new Promise((resolve) => setTimeout(resolve, 2 * FAST_CHANNEL.heartbeatIntervalMs!));
    const wallClock = Date.now.bind(Date);
    // An NTP step or a VM restore: judged on the wall clock, the stall would look a minute younger than it is.
    jest.spyOn(Date, 'now').mockImplementation(() => wallClock() - 60_000);

    const lagged = await waitFor('stops serving', () => !store.nearCacheStats()!.serving);
    expect(lagged).toBeLessThan(FAST_CHANNEL.maxLagMs! + 1_000);
  });

  it('on a Redis that refuses client tracking, warns once naming store.nearCache, reads from Redis, and does not reconnect in a loop', async () => {
    await inspector.acl('SETUSER', 'nc-no-tracking', 'on', '>nc-no-tracking-pw', '~*', '&*', '+@all', '-client|tracking');
    const connectionsSoFar = async () => Number(/total_connections_received:(\d+)/.exec(await inspector.info('stats'))![1]);
    // The store's default onWarning: process warnings.
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const refusals = () => warn.mock.calls.filter(([message]) => String(message).includes('store.nearCache'));
    const before = await connectionsSoFar();
    const url = server.url.replace('redis://', 'redis://nc-no-tracking:nc-no-tracking-pw@');
    const store = new RedisSessionStore({ url, keyPrefix: `nc-${randomToken(6).replace(/[^A-Za-z0-9]/g, 'x')}:`, nearCache: FAST_CHANNEL });
    stores.push(store);

    await waitFor('refusal reported', () => refusals().length > 0);
    const userId = uniqueUserId();
    const ref = refOf(newSessionToken(slotTagOf(userId)));
    await store.create(ref, makeRecord(userId), HOUR);
    for (let i = 0; i < 2; i++) expect(await store.read(ref, peek())).not.toBeNull();
    expect(store.nearCacheStats()).toMatchObject({ serving: false, hits: 0, misses: 2 });
    // A second in which a reconnect loop would open dozens: the store's client and its two duplicates, once each.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await connectionsSoFar()) - before).toBeLessThanOrEqual(3);
    expect(refusals()).toHaveLength(1);
  });
});

describe('near cache slides written behind', () => {
  /** A session of a new user with `idleTimeoutMs` left in Redis, read once by `store` so it holds it in memory. */
  async function idleSession(store: RedisSessionStore, idleTimeoutMs: number, overrides: Partial<SessionRecord> = {}) {
    const userId = uniqueUserId();
    const ref = refOf(newSessionToken(slotTagOf(userId)));
    const record = makeRecord(userId, overrides);
    await store.create(ref, record, idleTimeoutMs);
    expect(await store.read(ref, peek())).not.toBeNull();
    return { ref, record };
  }

  /** One read; whether it was served from memory. */
  async function readFromMemory(store: RedisSessionStore, ref: SessionRef, touch: TouchPolicy): Promise<boolean> {
    const hits = store.nearCacheStats()!.hits;
    expect(await store.read(ref, touch)).not.toBeNull();
    return store.nearCacheStats()!.hits > hits;
  }

  it('a request served from memory that then writes session data still slides the session', async () => {
    // A slide written behind reaches Redis within writeBehindMs + operationTimeoutMs: 400 ms here.
    const [store] = await instances(1, { ...FAST_CHANNEL, writeBehindMs: 200 }, { operationTimeoutMs: 200 });
    const idle = 3_000;
    const touch = () => ({ now: Date.now(), idleTimeoutMs: idle, touchIntervalMs: 300 });
    const { ref, record } = await idleSession(store, idle);

    // One request a second in: its read is served from memory (the slide written behind), then it commits a data key.
    await sleepUntil(record.lastSeenAt + 1_000);
    expect(await readFromMemory(store, ref, touch())).toBe(true);
    expect(await store.update(ref, { data: { cart: '["sku-1"]' } })).toBe(true);

    // Half a second past the idle expiry the session had before that request, half a second before the one it has since.
    await sleepUntil(record.lastSeenAt + idle + 500);
    expect(await store.read(ref, touch())).not.toBeNull();
  });

  it('a slide that cannot reach Redis is served from memory for less than touchInterval, then the reads go to Redis', async () => {
    const [store] = await instances(1, FAST_CHANNEL, { operationTimeoutMs: 150 });
    const touchIntervalMs = 300;
    const { ref, record } = await idleSession(store, HOUR);
    await sleepUntil(record.lastSeenAt + touchIntervalMs + 20);
    // The store's connection waits behind a blocking command: every flush (and every read sent to Redis) times out;
    // the invalidation connections are others, so the cache stays fresh.
    const blockKey = `nc-block-${randomToken(6)}`;
    const blocked = (store.client as Redis).blpop(blockKey, 0);
    try {
      const reads: Array<{ at: number; fromMemory: boolean }> = [];
      for (const started = Date.now(); Date.now() - started < 4 * touchIntervalMs; ) {
        const touch = { now: Date.now(), idleTimeoutMs: HOUR, touchIntervalMs };
        const hits = store.nearCacheStats()!.hits;
        await store.read(ref, touch).catch(() => null);
        reads.push({ at: touch.now, fromMemory: store.nearCacheStats()!.hits > hits });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const fromMemory = reads.filter((read) => read.fromMemory);
      expect(fromMemory.length).toBeGreaterThan(0);
      // The first made the slide due; none served touchInterval after it, though many flushes have failed by then.
      expect(fromMemory.at(-1)!.at - fromMemory[0].at).toBeLessThan(touchIntervalMs);
      expect(reads.at(-1)!.fromMemory).toBe(false);
    } finally {
      await inspector.lpush(blockKey, 'go');
      await blocked;
    }
  });

  it('a session read in the last writeBehindMs + operationTimeoutMs of its idle window is slid in Redis by the read itself', async () => {
    const [store] = await instances(1, { ...FAST_CHANNEL, writeBehindMs: 500 }, { operationTimeoutMs: 300 });
    const idle = 2_000;
    const { ref, record } = await idleSession(store, idle);

    // 500 ms before the key expires: a slide written behind could arrive up to 800 ms later, after it.
    await sleepUntil(record.lastSeenAt + idle - 500);
    const readAt = Date.now();
    expect(await readFromMemory(store, ref, { now: readAt, idleTimeoutMs: idle, touchIntervalMs: 300 })).toBe(false);

    const key = await keyOf(ref);
    expect(await lastSeenInRedis(key)).toBe(readAt);
    expect(await inspector.pttl(key)).toBeGreaterThan(idle - 500);
  });

  it('a slide flushed long after its read still ends the key at the absolute deadline', async () => {
    const [store] = await instances(1, FAST_CHANNEL, { operationTimeoutMs: 200 });
    const now = Date.now();
    const deadline = now + 3_000;
    const { ref } = await idleSession(store, deadline - now, { createdAt: now - 5_000, lastSeenAt: now - 5_000, absoluteExpiresAt: deadline });

    // The read's time is 2 s before its flush, as for a slide that waited that long to be written.
    const readAt = now - 2_000;
    expect(await readFromMemory(store, ref, { now: readAt, idleTimeoutMs: HOUR, touchIntervalMs: 1_000 })).toBe(true);

    const key = await keyOf(ref);
    await waitFor('slide written', async () => (await lastSeenInRedis(key)) === readAt);
    // A few milliseconds for the pipeline's way to Redis; timed from the read, the key would outlive the deadline by 2 s.
    expect(Date.now() + (await inspector.pttl(key))).toBeLessThanOrEqual(deadline + 50);
  });
});

describe('near cache configuration', () => {
  it.each([
    [{ maxEntries: 0 }, 'store.nearCache.maxEntries'],
    [{ maxEntries: 10, writeBehindMs: -1 }, 'store.nearCache.writeBehindMs'],
    [{ maxEntries: 10, heartbeatIntervalMs: 1.5 }, 'store.nearCache.heartbeatIntervalMs'],
    [{ maxEntries: 10, heartbeatIntervalMs: 100, maxLagMs: 150 }, 'store.nearCache.maxLagMs'],
  ])('refuses %j at boot, naming %s', (nearCache, option) => {
    const build = () => new RedisSessionStore({ url: server.url, nearCache: nearCache as NearCacheOptions });
    expect(build).toThrow(SessionConfigurationError);
    expect(build).toThrow(option);
  });
});

describe('the demo', () => {
  const secret = 'demo-secret-that-is-long-enough-0123456789';
  it('turns the near cache on with NEAR_CACHE=1 on Redis, and warns that the memory store has none', () => {
    expect(readDemoConfig({ SESSION_SECRET: secret, REDIS_URL: server.url, NEAR_CACHE: '1' }).session.store).toMatchObject({ nearCache: { maxEntries: 10_000 } });
    expect(readDemoConfig({ SESSION_SECRET: secret, REDIS_URL: server.url }).session.store).not.toHaveProperty('nearCache');
    expect(readDemoConfig({ SESSION_SECRET: secret, NEAR_CACHE: '1' }).warnings).toContain('NEAR_CACHE=1 needs REDIS_URL: the memory store has no near cache.');
  });
});

describeSessionStoreContract('RedisSessionStore with nearCache', async () => {
  const [store] = await instances(1);
  return { store, cleanup: () => store.close() };
});
