/**
 * Fresh login for sensitive actions: a session remembers when its user last proved their
 * password; `@RequireFreshLogin(window)` refuses older sessions with 401 and
 * `reauthenticate: true`; `POST /auth/confirm-password` renews the proof without a new login.
 */
import { Controller, HttpCode, Put, type INestApplication } from '@nestjs/common';
import { RequireFreshLogin, type AuthEvent, type SessionModuleOptions } from '../src/index.js';
import { http, login, MATRIX, sleep, storeOption, type StoreKind } from './support/http-helpers.js';
import { TEST_KEYS, tokenLogin } from './support/jwt-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { createTestApp, type AdapterName } from './support/test-app.js';

const SHORT_WINDOW_MS = 2000;

@Controller('sensitive')
class SensitiveController {
  @RequireFreshLogin('5m')
  @Put('relaxed')
  @HttpCode(204)
  relaxed(): void {}

  @RequireFreshLogin(SHORT_WINDOW_MS)
  @Put('strict')
  @HttpCode(204)
  strict(): void {}
}

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

/** A client: sends its cookie or its bearer token on every request. */
type Client = (request: ReturnType<ReturnType<typeof http>['put']>) => ReturnType<ReturnType<typeof http>['put']>;

describe.each(MATRIX)('fresh login over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  /** An app with the sensitive routes, logged in as alice: by the session cookie or by a bearer token. */
  async function start(mode: 'session' | 'jwt', session: Partial<SessionModuleOptions> = {}): Promise<{ server: INestApplication; as: Client }> {
    const jwt = mode === 'jwt' ? { mode: 'jwt' as const, jwt: { keys: [TEST_KEYS.hs1] } } : {};
    const server = await createTestApp({
      adapter,
      controllers: [SensitiveController],
      session: { store: storeOption(store, redis.url), ...jwt, ...session },
    });
    apps.push(server);
    if (mode === 'session') {
      const { cookie } = await login(server, 'alice');
      return { server, as: (req) => req.set('Cookie', cookie) };
    }
    const { accessToken } = await tokenLogin(server);
    return { server, as: (req) => req.set('Authorization', `Bearer ${accessToken}`) };
  }

  describe.each(['session', 'jwt'] as const)('in %s mode', (mode) => {
    it('lets a session that just logged in through a fresh-login route', async () => {
      const { server, as } = await start(mode);
      await as(http(server).put('/sensitive/relaxed')).expect(204);
    });

    it('refuses an older session with 401 and reauthenticate, and confirm-password renews the proof', async () => {
      const { server, as } = await start(mode);
      await sleep(SHORT_WINDOW_MS + 100);
      const stale = await as(http(server).put('/sensitive/strict'));
      expect(stale.status).toBe(401);
      expect(stale.body).toMatchObject({ reauthenticate: true });
      await as(http(server).put('/sensitive/relaxed')).expect(204);
      await as(http(server).post('/auth/confirm-password')).send({ password: 'wrong-password' }).expect(401);
      expect((await as(http(server).put('/sensitive/strict'))).status).toBe(401);
      await as(http(server).post('/auth/confirm-password')).send({ password: 'alice-password' }).expect(204);
      await as(http(server).put('/sensitive/strict')).expect(204);
    });

    it('answers 400 to a malformed confirm-password body and 401 without a session', async () => {
      const { server, as } = await start(mode);
      await as(http(server).post('/auth/confirm-password')).send({ password: 42 }).expect(400);
      await as(http(server).post('/auth/confirm-password')).send({}).expect(400);
      await http(server).post('/auth/confirm-password').send({ password: 'alice-password' }).expect(401);
      await http(server).put('/sensitive/relaxed').expect(401);
    });

    it('throttles confirm-password with the login counters (429 + Retry-After), with login.failed events', async () => {
      const events: AuthEvent[] = [];
      const { server, as } = await start(mode, {
        loginThrottle: { perAccountAndIp: { attempts: 2, window: '1m' } },
        onAuthEvent: (event) => events.push(event),
      });
      await as(http(server).post('/auth/confirm-password')).send({ password: 'wrong-1' }).expect(401);
      await as(http(server).post('/auth/confirm-password')).send({ password: 'wrong-2' }).expect(401);
      const throttled = await as(http(server).post('/auth/confirm-password')).send({ password: 'alice-password' });
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
      // The login's counters: a password login of the same account from this address is throttled too.
      await http(server).post('/auth/login').send({ username: 'alice', password: 'alice-password' }).expect(429);
      const failures = events.filter((event) => event.type === 'login.failed');
      expect(failures.map((event) => event.type === 'login.failed' && event.reason)).toEqual([
        'bad-credentials',
        'bad-credentials',
        'throttled',
        'throttled',
      ]);
      // The same account label as a failed login of alice.
      expect(new Set(failures.map((event) => event.type === 'login.failed' && event.account)).size).toBe(1);
    });
  });

  it('checks CSRF on confirm-password like any cookie-authenticated unsafe request', async () => {
    const server = await createTestApp({ adapter, session: { store: storeOption(store, redis.url), csrf: { token: true } } });
    apps.push(server);
    const { response, cookie } = await login(server, 'alice');
    const confirm = () => http(server).post('/auth/confirm-password').set('Cookie', cookie);
    expect((await confirm().send({ password: 'alice-password' })).status).toBe(403);
    expect((await confirm().set('Sec-Fetch-Site', 'cross-site').set('x-csrf-token', response.body.csrfToken).send({ password: 'alice-password' })).status).toBe(403);
    await confirm().set('x-csrf-token', response.body.csrfToken as string).send({ password: 'alice-password' }).expect(204);
  });
});

describe('RequireFreshLogin', () => {
  it('fails when it is applied with a window that is not a duration', () => {
    expect(() => RequireFreshLogin('soon' as never)).toThrow('RequireFreshLogin window');
  });
});
