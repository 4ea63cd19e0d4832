/**
 * Every user's sessions are bounded (100 by default; the oldest end at the next login), a
 * session list is bounded (the 50 most recently created), and the memory store never lets one
 * account evict other users' sessions. An evicted session is dead: its cookie and its refresh
 * token get 401. `maxSessionsPerUser` sets the bound and whether a login past it evicts the
 * oldest or is refused with 409, atomically with the session's creation.
 */
import type { INestApplication } from '@nestjs/common';
import type { AuthEvent } from '../src/index.js';
import { http, login, MATRIX, meStatus, sessionSetCookie, storeOption, type StoreKind } from './support/http-helpers.js';
import { bearerStatus, createJwtApp, refreshStatus, tokenLogin } from './support/jwt-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, createTestApp, type AdapterName } from './support/test-app.js';

/** DEFAULT_SESSIONS_PER_USER.limit and MAX_LISTED_SESSIONS, as the README documents them. */
const SESSIONS_PER_USER = 100;
const LISTED_SESSIONS = 50;

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

describe.each(MATRIX)('sessions per user over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication;

  afterEach(async () => {
    await app?.close();
  });

  it('the 101st login of one account ends its oldest session, keeps the other 100 and other users, and lists the newest 50', async () => {
    app = await createTestApp({ adapter, session: { store: storeOption(store, redis.url) } });
    const root = await login(app, 'root');
    const cookies: string[] = [];
    for (let i = 0; i < SESSIONS_PER_USER + 3; i++) cookies.push((await login(app, 'alice', { userAgent: `device-${i}` })).cookie);

    for (const cookie of cookies.slice(0, 3)) expect(await meStatus(app, cookie)).toBe(401);
    for (const cookie of [cookies[3], cookies[50], cookies[SESSIONS_PER_USER + 2]]) expect(await meStatus(app, cookie)).toBe(200);
    expect(await meStatus(app, root.cookie)).toBe(200);

    const listed = await http(app).get('/auth/sessions').set('Cookie', cookies[SESSIONS_PER_USER + 2]);
    expect(listed.status).toBe(200);
    const agents = (listed.body as Array<{ userAgent: string }>).map((session) => session.userAgent).sort();
    expect(agents).toHaveLength(LISTED_SESSIONS);
    const newest = Array.from({ length: LISTED_SESSIONS }, (_, i) => `device-${SESSIONS_PER_USER + 2 - i}`).sort();
    expect(agents).toEqual(newest);

    // Revoke-all still reaches every one of the 100, not only the listed 50.
    expect((await http(app).post('/auth/logout-all').set('Cookie', cookies[SESSIONS_PER_USER + 2])).status).toBe(204);
    for (const cookie of [cookies[3], cookies[30], cookies[SESSIONS_PER_USER + 1]]) expect(await meStatus(app, cookie)).toBe(401);
    expect(await meStatus(app, root.cookie)).toBe(200);
  });

  it("an evicted session's refresh family is dead too (jwt mode)", async () => {
    app = await createJwtApp({ adapter, store: storeOption(store, redis.url) });
    const first = await tokenLogin(app);
    for (let i = 0; i < SESSIONS_PER_USER; i++) await tokenLogin(app);

    expect(await refreshStatus(app, first.refreshToken)).toBe(401);
    const latest = await tokenLogin(app);
    expect(await refreshStatus(app, latest.refreshToken)).toBe(200);
  });
});

describe.each(MATRIX)('maxSessionsPerUser over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication;
  let events: AuthEvent[];

  beforeEach(() => {
    events = [];
  });

  afterEach(async () => {
    await app?.close();
  });

  const concurrentLogins = (count: number) =>
    Promise.all(Array.from({ length: count }, () => http(app).post('/auth/login').send({ username: 'alice', password: 'alice-password' })));

  const cookieOf = (response: Awaited<ReturnType<typeof concurrentLogins>>[number]) => {
    const parsed = sessionSetCookie(response);
    return `${parsed.name}=${parsed.value}`;
  };

  it("50 concurrent logins with limit 3 and 'evict-oldest' leave exactly 3 live sessions, and the evictions are reported", async () => {
    app = await createTestApp({
      adapter,
      // 50 attempts at once from one address would reach the per-address throttle, which is not under test.
      session: { store: storeOption(store, redis.url), maxSessionsPerUser: { limit: 3 }, loginThrottle: false, onAuthEvent: (event) => events.push(event) },
    });

    const responses = await concurrentLogins(50);

    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));
    const statuses = await Promise.all(responses.map((response) => meStatus(app, cookieOf(response))));
    expect(statuses.filter((status) => status === 200)).toHaveLength(3);
    expect(statuses.filter((status) => status === 401)).toHaveLength(47);
    const evictions = events.filter((event) => event.type === 'session.evicted');
    expect(evictions.reduce((sum, event) => sum + event.count, 0)).toBe(47);
    for (const event of evictions) {
      expect(event).toEqual({ type: 'session.evicted', userId: 'u-alice', sessionIds: expect.any(Array), count: event.sessionIds.length });
    }
    const listed = await http(app).get('/auth/sessions').set('Cookie', cookieOf(responses[statuses.indexOf(200)]));
    expect(listed.body).toHaveLength(3);
  });

  it("50 concurrent logins with limit 3 and 'refuse' give exactly 3 successes and 47 answers 409 with a clear message", async () => {
    app = await createTestApp({
      adapter,
      session: {
        store: storeOption(store, redis.url),
        maxSessionsPerUser: { limit: 3, onLimit: 'refuse' },
        loginThrottle: false,
        onAuthEvent: (event) => events.push(event),
      },
    });
    const root = await login(app, 'root');

    const responses = await concurrentLogins(50);

    const succeeded = responses.filter((response) => response.status === 200);
    const refused = responses.filter((response) => response.status === 409);
    expect(succeeded).toHaveLength(3);
    expect(refused).toHaveLength(47);
    expect((refused[0].body as { message: string }).message).toMatch(/already has 3 active sessions; log out of one/);
    expect(refused[0].headers['set-cookie']).toBeUndefined();
    for (const response of succeeded) expect(await meStatus(app, cookieOf(response))).toBe(200);
    expect(await meStatus(app, root.cookie)).toBe(200);
    expect(events.filter((event) => event.type === 'login.refused-limit')).toHaveLength(47);
    expect(events.find((event) => event.type === 'login.refused-limit')).toEqual({
      type: 'login.refused-limit',
      userId: 'u-alice',
      limit: 3,
      ip: expect.anything(),
    });

    // Logging in again from one of the three replaces that session instead of being refused.
    const again = await login(app, 'alice', { cookie: cookieOf(succeeded[0]) });
    expect(await meStatus(app, again.cookie)).toBe(200);
    expect(await meStatus(app, cookieOf(succeeded[0]))).toBe(401);
    // Once one session ends, there is room for a new login.
    expect((await http(app).post('/auth/logout').set('Cookie', cookieOf(succeeded[1]))).status).toBe(204);
    expect(await meStatus(app, (await login(app, 'alice')).cookie)).toBe(200);
  });

  it("an evicted session's bearer token and refresh token get 401 at once (jwt mode)", async () => {
    app = await createJwtApp({
      adapter,
      store: storeOption(store, redis.url),
      session: { maxSessionsPerUser: { limit: 2 }, onAuthEvent: (event) => events.push(event) },
    });
    const first = await tokenLogin(app);
    const second = await tokenLogin(app);
    expect(await bearerStatus(app, first.accessToken)).toBe(200);

    const third = await tokenLogin(app);

    expect(await bearerStatus(app, first.accessToken)).toBe(401);
    expect(await refreshStatus(app, first.refreshToken)).toBe(401);
    expect(await bearerStatus(app, second.accessToken)).toBe(200);
    expect(await refreshStatus(app, third.refreshToken)).toBe(200);
    expect(events.filter((event) => event.type === 'session.evicted')).toEqual([
      { type: 'session.evicted', userId: 'u-alice', sessionIds: [expect.any(String)], count: 1 },
    ]);
  });

  it("with 'refuse' in jwt mode the login past the limit gets 409 and no tokens", async () => {
    app = await createJwtApp({ adapter, store: storeOption(store, redis.url), session: { maxSessionsPerUser: { limit: 1, onLimit: 'refuse' } } });
    const first = await tokenLogin(app);

    const refused = await http(app).post('/auth/login').send({ username: 'alice', password: 'alice-password' });

    expect(refused.status).toBe(409);
    expect(refused.body).not.toHaveProperty('accessToken');
    expect(await bearerStatus(app, first.accessToken)).toBe(200);
  });
});

describe.each(ADAPTERS)('the memory store when full, over %s', (adapter: AdapterName) => {
  let app: INestApplication;

  afterEach(async () => {
    await app?.close();
  });

  it("one account logging in maxSessions times does not log other users out", async () => {
    app = await createTestApp({ adapter, session: { store: { type: 'memory', maxSessions: 120 } } });
    const root = await login(app, 'root');

    for (let i = 0; i < 120; i++) await login(app, 'alice');

    expect(await meStatus(app, root.cookie)).toBe(200);
  });

  it('a flood of anonymous sessions (a public route that stores data) does not log users out', async () => {
    app = await createTestApp({ adapter, session: { store: { type: 'memory', maxSessions: 100 } } });
    const alice = await login(app, 'alice');

    for (let i = 0; i < 150; i++) await http(app).put('/probe/anonymous/cart').send({ value: i }).expect(200);

    expect(await meStatus(app, alice.cookie)).toBe(200);
  });
});
