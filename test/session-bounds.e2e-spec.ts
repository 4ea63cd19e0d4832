/**
 * Every user's sessions are bounded (100 by default; the oldest end at the next login), a
 * session list is bounded (the 50 most recently created), and the memory store never lets one
 * account evict other users' sessions. An evicted session is dead: its cookie and its refresh
 * token get 401.
 */
import type { INestApplication } from '@nestjs/common';
import { http, login, MATRIX, meStatus, storeOption, type StoreKind } from './support/http-helpers.js';
import { createJwtApp, refreshStatus, tokenLogin } from './support/jwt-helpers.js';
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
});
