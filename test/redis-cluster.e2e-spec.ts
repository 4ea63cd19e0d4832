/**
 * Issue 11: the Redis store on a real 3-master / 3-replica Redis Cluster, through an ioredis
 * Cluster client. The whole store contract, then the HTTP flows (login, session data, list,
 * revoke, revoke-all, refresh, rotate, throttle) in session, jwt and hybrid mode. A CROSSSLOT
 * error (or any other store error) would surface as a 503 and fail the flows; the sessions of
 * many users land on all three masters; every key the flows leave behind has a TTL.
 */
import type { INestApplication } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import { randomToken } from '../src/core/session-token.js';
import { RedisSessionStore } from '../src/stores/redis/redis-session-store.js';
import type { AuthUser, SessionStoreOption } from '../src/index.js';
import { describeSessionStoreContract } from './support/session-store-contract.js';
import { startRedisCluster, type RedisClusterHandle } from './support/redis-cluster.js';
import { http, uniqueKeyPrefix } from './support/http-helpers.js';
import { createJwtApp } from './support/jwt-helpers.js';
import { createTestApp, sessionCookieFrom, validateTestUser } from './support/test-app.js';

let cluster: RedisClusterHandle;
let shared: Cluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
  shared = new Cluster(cluster.seeds);
}, 60_000);
afterAll(async () => {
  await shared?.quit();
  await cluster?.stop();
});

describe('RedisSessionStore on a Redis Cluster', () => {
  describeSessionStoreContract('RedisSessionStore (given a Cluster client)', async () => {
    const store = new RedisSessionStore({ client: shared, keyPrefix: `contract-${randomToken(6)}:` });
    return { store, cleanup: () => store.close() };
  });
});

/** Any user `user-<n>` with password `pw`, besides the shared test users. */
async function anyUser(username: string, password: string): Promise<AuthUser | null> {
  if (/^user-\d+$/.test(username) && password === 'pw') return { id: username, roles: ['user'] };
  return validateTestUser(username, password);
}

/** Every key under `prefix` on every master, with its remaining lifetime in ms (-1: none). */
async function keysByMaster(prefix: string): Promise<Map<number, Array<{ key: string; pttl: number }>>> {
  const result = new Map<number, Array<{ key: string; pttl: number }>>();
  for (const { port } of await cluster.masters()) {
    const node = new Redis({ port, host: '127.0.0.1' });
    const keys: Array<{ key: string; pttl: number }> = [];
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of batch) keys.push({ key, pttl: await node.pttl(key) });
    } while (cursor !== '0');
    result.set(port, keys);
    node.disconnect();
  }
  return result;
}

const MODES = ['session', 'jwt', 'hybrid'] as const;

describe.each(MODES)('the HTTP flows on a Redis Cluster in %s mode', (mode) => {
  const keyPrefix = uniqueKeyPrefix(`cluster-${mode}`);
  let app: INestApplication;

  beforeAll(async () => {
    const store: SessionStoreOption = { type: 'redis', cluster: { nodes: cluster.seeds }, keyPrefix, operationTimeoutMs: 2_000 };
    const session = { validateUser: anyUser, loginThrottle: { perAccountAndIp: { attempts: 3, window: '1m' } } };
    app = mode === 'session' ? await createTestApp({ adapter: 'express', session: { ...session, store } }) : await createJwtApp({ adapter: 'express', mode, store, session });
  });
  afterAll(async () => {
    await app?.close();
  });

  /** A login of `username`: the headers that authenticate its requests in this mode, and its refresh token. */
  async function logIn(username: string, password = username === 'alice' ? 'alice-password' : 'pw') {
    const response = await http(app).post('/auth/login').send({ username, password });
    expect(response.status).toBe(200);
    const headers: Record<string, string> =
      mode === 'jwt' ? { Authorization: `Bearer ${response.body.accessToken}` } : { Cookie: sessionCookieFrom(response) };
    return { headers, refreshToken: response.body.refreshToken as string | undefined, response };
  }
  const get = (path: string, headers: Record<string, string>) => http(app).get(path).set(headers);
  const guardedPath = mode === 'jwt' ? '/probe/bearer' : '/probe/any';

  it('logs in, keeps session data, lists, revokes one and all sessions', async () => {
    const first = await logIn('alice');
    const second = await logIn('alice');
    expect((await get(guardedPath, first.headers)).status).toBe(200);

    if (mode !== 'jwt') {
      expect((await http(app).put('/probe/data/colour').set(first.headers).send({ value: 'teal' })).status).toBe(200);
      expect((await get('/probe/data', first.headers)).body).toMatchObject({ colour: 'teal' });
    }

    const listed = await get('/auth/sessions', first.headers);
    expect(listed.status).toBe(200);
    const others = (listed.body.sessions ?? listed.body) as Array<{ id: string; current: boolean }>;
    expect(others.length).toBeGreaterThanOrEqual(2);
    const secondId = (await get('/auth/sessions', second.headers)).body;
    const secondHandle = ((secondId.sessions ?? secondId) as Array<{ id: string; current: boolean }>).find((s) => s.current)!.id;

    expect((await http(app).delete(`/auth/sessions/${secondHandle}`).set(first.headers)).status).toBe(204);
    expect((await get(guardedPath, second.headers)).status).toBe(401);
    expect((await get(guardedPath, first.headers)).status).toBe(200);

    const third = await logIn('alice');
    expect((await http(app).post('/auth/logout-all').set(first.headers)).status).toBe(204);
    expect((await get(guardedPath, first.headers)).status).toBe(401);
    expect((await get(guardedPath, third.headers)).status).toBe(401);
  });

  it('rotates the session on a privilege change and logs out', async () => {
    const login = await logIn('alice');
    const promotePath = mode === 'jwt' ? '/jwt-probe/promote' : '/probe/promote';
    const promoted = await http(app).post(promotePath).set(login.headers);
    expect(promoted.status).toBe(201);
    const headers: Record<string, string> = mode === 'jwt' ? { Authorization: `Bearer ${promoted.body.accessToken}` } : { Cookie: sessionCookieFrom(promoted) };
    expect((await get('/probe/admin', headers)).status).toBe(200);
    expect((await get(guardedPath, login.headers)).status).toBe(401);
    expect((await http(app).post('/auth/logout').set(headers).send(promoted.body.refreshToken ? { refreshToken: promoted.body.refreshToken } : {})).status).toBe(204);
    expect((await get(guardedPath, headers)).status).toBe(401);
  });

  if (mode !== 'session') {
    it('rotates refresh tokens and revokes the family when a used one comes back', async () => {
      const login = await logIn('alice');
      const refreshed = await http(app).post('/auth/refresh').send({ refreshToken: login.refreshToken });
      expect(refreshed.status).toBe(200);
      const next = refreshed.body.refreshToken as string;
      expect((await http(app).post('/auth/refresh').send({ refreshToken: login.refreshToken })).status).toBe(401);
      expect((await http(app).post('/auth/refresh').send({ refreshToken: next })).status).toBe(401);
    });
  }

  it('throttles failed logins with 429 and Retry-After (rate-limiter-flexible on the Cluster)', async () => {
    const user = `user-${Date.now()}`;
    for (let i = 0; i < 3; i++) expect((await http(app).post('/auth/login').send({ username: user, password: 'wrong' })).status).toBe(401);
    const refused = await http(app).post('/auth/login').send({ username: user, password: 'pw' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it("spreads many users' sessions over all three masters, and every key it leaves has a TTL", async () => {
    for (let i = 0; i < 30; i++) await logIn(`user-${i}`);
    const byMaster = await keysByMaster(keyPrefix);
    const sessionsPerMaster = [...byMaster].map(([port, keys]) => ({ port, sessions: keys.filter(({ key }) => key.includes(':s:')).length }));
    console.log(`${mode} mode, 30 users: sessions per master ${JSON.stringify(sessionsPerMaster)}`);
    expect(sessionsPerMaster).toHaveLength(3);
    for (const { sessions } of sessionsPerMaster) expect(sessions).toBeGreaterThan(0);
    const all = [...byMaster.values()].flat();
    expect(all.length).toBeGreaterThan(30);
    expect(all.filter(({ pttl }) => pttl < 0)).toEqual([]);
    expect(all.some(({ key }) => key.includes('throttle'))).toBe(true);
  });
});

describe('cluster configuration at boot', () => {
  it.each([
    [{ cluster: { nodes: [] } }, /store\.cluster\.nodes/],
    [{ cluster: { nodes: ['nohost'] } }, /store\.cluster\.nodes\[0\]/],
    [{ cluster: { nodes: cluster?.seeds ?? ['127.0.0.1:1'] }, url: 'redis://127.0.0.1:1' }, /exactly one of `url`, `options`, `cluster` or `client`/],
    [{ options: { sentinels: [] , name: 'm' } }, /store\.options\.sentinels/],
    [{ options: { sentinels: [{ host: '127.0.0.1', port: 26379 }] } }, /store\.options\.name/],
    [{ url: 'redis+sentinel://127.0.0.1:26379' }, /store\.url/],
    [{ url: 'redis+sentinel://127.0.0.1:x/mymaster' }, /store\.url/],
  ])('refuses %j with a message naming the option', (options, message) => {
    expect(() => new RedisSessionStore(options as never)).toThrow(message);
  });
});
