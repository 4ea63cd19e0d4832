/**
 * What the Redis store leaves in Redis over whole flows: revoke-all holds even when a user's
 * index key has been lost (evicted, or dropped in a failover), and no key is ever left without
 * a TTL, whatever the flow.
 */
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { slotTagOf } from './support/user-refs.js';
import { http, login, meStatus, uniqueKeyPrefix } from './support/http-helpers.js';
import { createJwtApp, refreshWith, tokenLogin } from './support/jwt-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, createTestApp, sessionCookieFrom, TEST_USERS, type AdapterName } from './support/test-app.js';

let redis: RedisServerHandle;
/** Talks only to this suite's own redis-server. */
let inspector: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  inspector = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  await inspector?.quit();
  await redis?.stop();
});

const aliceIndexKey = (keyPrefix: string) => `${keyPrefix}{${slotTagOf(String(TEST_USERS.alice.user.id))}}:u`;

/** Every key under the prefix with its PTTL (-1: no TTL), found with SCAN. */
async function ttlsUnder(keyPrefix: string): Promise<Array<{ key: string; pttl: number }>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await inspector.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 100);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return Promise.all(keys.map(async (key) => ({ key, pttl: await inspector.pttl(key) })));
}

function expectEveryKeyToExpire(ttls: Array<{ key: string; pttl: number }>): void {
  expect(ttls.length).toBeGreaterThan(0);
  for (const { key, pttl } of ttls) expect({ key, expires: pttl > 0 }).toEqual({ key, expires: true });
}

describe.each(ADAPTERS)('Redis keys over %s', (adapter: AdapterName) => {
  let app: INestApplication;
  let keyPrefix: string;

  beforeEach(() => {
    keyPrefix = uniqueKeyPrefix('life');
  });

  afterEach(async () => {
    await app?.close();
  });

  it("revoke-all ends every session of the user after the user's index key was lost", async () => {
    app = await createTestApp({ adapter, session: { store: { type: 'redis', url: redis.url, keyPrefix } } });
    const phone = await login(app, 'alice');
    const laptop = await login(app, 'alice');
    const root = await login(app, 'root');
    expect(await inspector.del(aliceIndexKey(keyPrefix))).toBe(1);

    expect((await http(app).post(`/probe/disable/${TEST_USERS.alice.user.id}`)).status).toBe(201);

    expect(await meStatus(app, phone.cookie)).toBe(401);
    expect(await meStatus(app, laptop.cookie)).toBe(401);
    expect(await meStatus(app, root.cookie)).toBe(200);
    expect(await meStatus(app, (await login(app, 'alice')).cookie)).toBe(200);
  });

  it('a rotate after the index key was lost recreates it with a TTL: no key is left without one', async () => {
    app = await createTestApp({ adapter, session: { store: { type: 'redis', url: redis.url, keyPrefix } } });
    const { cookie } = await login(app, 'alice');
    await inspector.del(aliceIndexKey(keyPrefix));

    const promoted = await http(app).post('/probe/promote').set('Cookie', cookie);
    expect(promoted.status).toBe(201);

    expect(await inspector.exists(aliceIndexKey(keyPrefix))).toBe(1);
    expectEveryKeyToExpire(await ttlsUnder(keyPrefix));
    expect(await meStatus(app, sessionCookieFrom(promoted))).toBe(200);
  });

  it('every key has a TTL after a whole hybrid flow: login, data write, rotate, refresh, revoke-others, revoke-all', async () => {
    app = await createJwtApp({ adapter, mode: 'hybrid', store: { type: 'redis', url: redis.url, keyPrefix } });
    const first = await tokenLogin(app);
    const cookie = sessionCookieFrom(first.response);
    await tokenLogin(app); // another device, for revoke-others
    await login(app, 'root');
    expect((await http(app).put('/probe/data/cart').set('Cookie', cookie).send({ value: ['apple'] })).status).toBe(200);
    const rotated = await http(app).post('/probe/promote').set('Cookie', cookie);
    expect(rotated.status).toBe(201);
    const refreshed = await refreshWith(app, (rotated.body as { refreshToken: string }).refreshToken);
    expect(refreshed.status).toBe(200);
    const revoked = await http(app).post('/probe/password-changed').set('Cookie', sessionCookieFrom(rotated));
    expect(revoked.status).toBe(201);
    expect((revoked.body as { revoked: number }).revoked).toBe(1);
    expectEveryKeyToExpire(await ttlsUnder(keyPrefix));

    expect((await http(app).post(`/probe/disable/${TEST_USERS.alice.user.id}`)).status).toBe(201);
    expectEveryKeyToExpire(await ttlsUnder(keyPrefix));
  });
});
