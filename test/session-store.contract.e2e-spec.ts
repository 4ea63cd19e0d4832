/**
 * The shared SessionStore contract, run against every store the library ships:
 * MemorySessionStore, and RedisSessionStore over a private redis-server.
 */
import { randomToken } from '../src/core/session-token.js';
import { ownerOf } from './support/user-refs.js';
import { MemorySessionStore } from '../src/stores/memory-session-store.js';
import { RedisSessionStore } from '../src/stores/redis/redis-session-store.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import {
  anonymousRef,
  describeSessionStoreContract,
  makeRecord,
  peek,
  sleep,
  uniqueUserId,
  userRef,
} from './support/session-store-contract.js';

describeSessionStoreContract('MemorySessionStore', async () => {
  const store = new MemorySessionStore();
  return { store, cleanup: () => store.close() };
});

describe('RedisSessionStore over a private redis-server', () => {
  let server: RedisServerHandle;

  beforeAll(async () => {
    server = await startRedisServer();
  });

  afterAll(async () => {
    await server?.stop();
  });

  describeSessionStoreContract('RedisSessionStore', async () => {
    // A fresh key prefix per store instance, so no test sees another one's keys.
    const store = new RedisSessionStore({ url: server.url, keyPrefix: `contract-${randomToken(6)}:` });
    return { store, cleanup: () => store.close() };
  });
});

describe('MemorySessionStore maxSessions', () => {
  const fiveEach = { sessionsPerUser: { limit: 5, onLimit: 'evict-oldest' as const } };

  let store: MemorySessionStore;

  afterEach(async () => {
    await store?.close();
  });

  it('drops the least recently used anonymous session first when a new one is created while full', async () => {
    store = new MemorySessionStore({ maxSessions: 3 });
    const userId = uniqueUserId();
    const user = { ref: userRef(userId), record: makeRecord(userId) };
    await store.create(user.ref, user.record, 60_000);
    const [oldestAnonymous, ...otherAnonymous] = [anonymousRef(), anonymousRef(), anonymousRef()];
    for (const ref of [oldestAnonymous, ...otherAnonymous]) {
      await sleep(2);
      await store.create(ref, makeRecord(null), 60_000);
    }

    expect(store.size).toBe(3);
    expect(await store.read(oldestAnonymous, peek())).toBeNull();
    expect(await store.read(user.ref, peek())).not.toBeNull();
    for (const ref of otherAnonymous) expect(await store.read(ref, peek())).not.toBeNull();
  });

  it('drops the least recently used user session when a new one is created while full of them', async () => {
    store = new MemorySessionStore({ maxSessions: 3 });
    const sessions = [uniqueUserId(), uniqueUserId(), uniqueUserId(), uniqueUserId()].map((userId) => ({ userId, ref: userRef(userId) }));
    for (const { userId, ref } of sessions) {
      await sleep(2);
      await store.create(ref, makeRecord(userId), 60_000);
    }

    expect(store.size).toBe(3);
    expect(await store.read(sessions[0].ref, peek())).toBeNull();
    expect(await store.listByUser(ownerOf(sessions[0].userId))).toEqual([]);
    for (const { ref } of sessions.slice(1)) expect(await store.read(ref, peek())).not.toBeNull();
  });

  it('sweeps expired sessions before dropping a live one', async () => {
    store = new MemorySessionStore({ maxSessions: 3 });
    const first = anonymousRef();
    const expiring = anonymousRef();
    const third = anonymousRef();
    await store.create(first, makeRecord(null), 60_000);
    await store.create(expiring, makeRecord(null), 100);
    await store.create(third, makeRecord(null), 60_000);
    await sleep(250);

    const fourth = anonymousRef();
    await store.create(fourth, makeRecord(null), 60_000);

    expect(store.size).toBe(3);
    for (const ref of [first, third, fourth]) expect(await store.read(ref, peek())).not.toBeNull();
    expect(await store.read(expiring, peek())).toBeNull();
  });

  it("one account logging in maxSessions times never evicts another user's session: its own bound applies first", async () => {
    store = new MemorySessionStore({ maxSessions: 10 });
    const others = [uniqueUserId(), uniqueUserId(), uniqueUserId()].map((userId) => ({ ref: userRef(userId), record: makeRecord(userId) }));
    for (const { ref, record } of others) await store.create(ref, record, 60_000, fiveEach);
    const alice = uniqueUserId();
    const mine = Array.from({ length: 10 }, () => userRef(alice));
    for (const ref of mine) await store.create(ref, makeRecord(alice), 60_000, fiveEach);

    for (const { ref, record } of others) expect(await store.read(ref, peek())).toEqual(record);
    expect(await store.listByUser(ownerOf(alice))).toHaveLength(5);
    for (const ref of mine.slice(5)) expect(await store.read(ref, peek())).not.toBeNull();
    expect(store.size).toBe(8);
  });

  it('with the default bound, 150 logins of one account into a 150-session store leave the other user logged in', async () => {
    store = new MemorySessionStore({ maxSessions: 150 });
    const bob = uniqueUserId();
    const bobs = { ref: userRef(bob), record: makeRecord(bob) };
    await store.create(bobs.ref, bobs.record, 60_000);
    const alice = uniqueUserId();
    for (let i = 0; i < 150; i++) await store.create(userRef(alice), makeRecord(alice), 60_000);

    expect(await store.read(bobs.ref, peek())).toEqual(bobs.record);
    expect(store.size).toBe(101);
  });

  it('when full with many users, evicts the least recently used session, not the oldest', async () => {
    store = new MemorySessionStore({ maxSessions: 3 });
    const sessions = [uniqueUserId(), uniqueUserId(), uniqueUserId()].map((userId) => ({ ref: userRef(userId), record: makeRecord(userId) }));
    for (const { ref, record } of sessions) await store.create(ref, record, 60_000);
    // The oldest is in use; the second one is not.
    expect(await store.read(sessions[0].ref, peek())).not.toBeNull();

    const newcomer = uniqueUserId();
    await store.create(userRef(newcomer), makeRecord(newcomer), 60_000);

    expect(await store.read(sessions[0].ref, peek())).not.toBeNull();
    expect(await store.read(sessions[1].ref, peek())).toBeNull();
    expect(await store.read(sessions[2].ref, peek())).not.toBeNull();
  });

  it('never holds more than maxSessions however many are created', async () => {
    store = new MemorySessionStore({ maxSessions: 5 });
    const refs = Array.from({ length: 50 }, () => anonymousRef());
    for (const ref of refs) await store.create(ref, makeRecord(null), 60_000);

    expect(store.size).toBe(5);
    // The five newest survive.
    for (const ref of refs.slice(-5)) expect(await store.read(ref, peek())).not.toBeNull();
    expect(await store.read(refs[44], peek())).toBeNull();
  });
});
