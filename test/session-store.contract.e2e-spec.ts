/**
 * The shared SessionStore contract, run against every store the library ships:
 * MemorySessionStore, and RedisSessionStore over a private redis-server.
 */
import { randomToken } from '../src/core/session-token.js';
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
  let store: MemorySessionStore;

  afterEach(async () => {
    await store?.close();
  });

  it('drops the oldest session when a new one is created while full', async () => {
    store = new MemorySessionStore({ maxSessions: 3 });
    const userId = uniqueUserId();
    const oldest = { ref: userRef(userId), record: makeRecord(userId) };
    await store.create(oldest.ref, oldest.record, 60_000);
    const rest = [anonymousRef(), anonymousRef(), anonymousRef()];
    for (const ref of rest) {
      await sleep(2);
      await store.create(ref, makeRecord(null), 60_000);
    }

    expect(store.size).toBe(3);
    expect(await store.read(oldest.ref, peek())).toBeNull();
    expect(await store.listByUser(userId)).toEqual([]);
    for (const ref of rest) expect(await store.read(ref, peek())).not.toBeNull();
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
