/**
 * The testing kit (`nestjs-session-auth/testing`): SessionTesting logs a user in without the
 * login route or a password, in the app's own store, and the app treats that session like any
 * other: guards, roles, session data, the session list, CSRF tokens, logout; in every mode.
 */
import { Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SessionAuthError } from '../src/index.js';
import { SessionTesting } from '../src/testing/index.js';
import { TEST_KEYS } from './support/jwt-helpers.js';
import { http, MATRIX, storeOption, type StoreKind } from './support/http-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { createTestApp, ProbeController, startApp, TEST_SECRET, type AdapterName } from './support/test-app.js';
import { SessionModule } from '../src/index.js';

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

/** A user the app's validateUser does not know: only the kit can log them in. */
const ADMIN = { id: 'u-kit-admin', name: 'Kit Admin', roles: ['admin'] };

describe.each(MATRIX)('SessionTesting over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication;
  let passwordChecks: number;

  beforeEach(async () => {
    passwordChecks = 0;
    app = await createTestApp({
      adapter,
      session: {
        store: storeOption(store, redis.url),
        validateUser: async () => {
          passwordChecks++;
          return null;
        },
      },
    });
  });

  afterEach(async () => {
    await app?.close();
  });

  it('gives a session cookie that the guards, roles and session list accept, with the seeded data, without checking a password', async () => {
    const auth = SessionTesting.from(app);
    const login = await auth.login(ADMIN, { data: { cart: ['sku-1'] } });
    expect(login.cookie).toMatch(/^sid=[^;]+$/);
    expect(login.headers).toEqual({ Cookie: login.cookie });
    expect(login.accessToken).toBeNull();

    await http(app).get('/probe/admin').set('Cookie', login.cookie!).expect(200, { admin: true });
    const me = await http(app).get('/auth/me').set(login.headers).expect(200);
    expect(me.body).toEqual({ user: ADMIN });
    const data = await http(app).get('/probe/data').set(login.headers).expect(200);
    expect(data.body).toEqual({ cart: ['sku-1'] });
    const sessions = await http(app).get('/auth/sessions').set(login.headers).expect(200);
    expect(sessions.body).toEqual([expect.objectContaining({ id: login.sessionId, current: true, userAgent: 'SessionTesting' })]);
    expect(passwordChecks).toBe(0);

    await http(app).post('/auth/logout').set(login.headers).expect(204);
    await http(app).get('/auth/me').set(login.headers).expect(401);
  });

  it('gives each login its own session, so a test can play two devices of one user', async () => {
    const auth = SessionTesting.from(app);
    const first = await auth.login({ id: 'u-two-devices' });
    const second = await auth.login({ id: 'u-two-devices' });
    expect(first.sessionId).not.toBe(second.sessionId);
    await http(app).delete(`/auth/sessions/${second.sessionId}`).set(first.headers).expect(204);
    await http(app).get('/auth/me').set(second.headers).expect(401);
    await http(app).get('/auth/me').set(first.headers).expect(200);
  });
});

describe.each(['express', 'fastify'] as AdapterName[])('SessionTesting in jwt, hybrid and CSRF-token apps over %s', (adapter) => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function appWith(session: Parameters<typeof createTestApp>[0]['session']): Promise<INestApplication> {
    const app = await createTestApp({ adapter, session: { store: { type: 'memory' }, ...session } });
    apps.push(app);
    return app;
  }

  it('gives bearer tokens in jwt mode: the access token passes JwtGuard, the refresh token refreshes', async () => {
    const app = await appWith({ mode: 'jwt', jwt: { keys: [TEST_KEYS.hs1] } });
    const login = await SessionTesting.from(app).login({ id: 'u-jwt', roles: ['user'] });
    expect(login.cookie).toBeNull();
    expect(login.headers).toEqual({ Authorization: `Bearer ${login.accessToken}` });
    const me = await http(app).get('/probe/bearer').set(login.headers).expect(200);
    expect(me.body.user).toEqual({ id: 'u-jwt', roles: ['user'] });
    const refreshed = await http(app).post('/auth/refresh').send({ refreshToken: login.refreshToken }).expect(200);
    expect(refreshed.body.accessToken).toEqual(expect.any(String));
  });

  it('gives both credentials in hybrid mode, each accepted on its own', async () => {
    const app = await appWith({ mode: 'hybrid', jwt: { keys: [TEST_KEYS.hs1] } });
    const login = await SessionTesting.from(app).login({ id: 'u-hybrid' });
    expect(login.headers).toEqual({ Cookie: login.cookie });
    const byCookie = await http(app).get('/probe/any').set('Cookie', login.cookie!).expect(200);
    expect(byCookie.body.via).toBe('cookie');
    const byToken = await http(app).get('/probe/any').set('Authorization', `Bearer ${login.accessToken}`).expect(200);
    expect(byToken.body.via).toBe('bearer');
  });

  it('adds the CSRF token header when csrf.token is on, so unsafe requests pass; without it they get 403', async () => {
    const app = await appWith({ csrf: { token: true, headerName: 'x-test-csrf' } });
    const login = await SessionTesting.from(app).login({ id: 'u-csrf' });
    expect(login.headers).toEqual({ Cookie: login.cookie, 'x-test-csrf': login.csrfToken });
    await http(app).put('/probe/data/theme').set(login.headers).send({ value: 'dark' }).expect(200);
    await http(app).put('/probe/data/theme').set('Cookie', login.cookie!).send({ value: 'light' }).expect(403);
  });

  it('works from the compiled TestingModule, before the application is created', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRoot({ secret: TEST_SECRET, validateUser: async () => null, routes: true })],
      controllers: [ProbeController],
    }).compile();
    const login = await SessionTesting.from(moduleRef).login({ id: 'u-module' });
    const app = await startApp(moduleRef, adapter);
    apps.push(app);
    await http(app).get('/probe/guarded').set(login.headers).expect(200);
  });

  it('says what to pass when the app has no SessionModule', async () => {
    @Module({})
    class EmptyModule {}
    const moduleRef = await Test.createTestingModule({ imports: [EmptyModule] }).compile();
    expect(() => SessionTesting.from(moduleRef)).toThrow(SessionAuthError);
    expect(() => SessionTesting.from(moduleRef)).toThrow(/SessionModule\.forRoot\(\)/);
    await moduleRef.close();
  });
});
