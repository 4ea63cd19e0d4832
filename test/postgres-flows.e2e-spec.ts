/**
 * The session, JWT and hybrid flows through HTTP on the PostgreSQL store, over Express and
 * Fastify: login, data, the session list and revocation, rotation, password change, refresh
 * rotation with reuse detection, logout by refresh token, and login throttling in PostgreSQL.
 */
import type { INestApplication } from '@nestjs/common';
import pg from 'pg';
import type { SessionStoreOption } from '../src/index.js';
import { http, login, meStatus } from './support/http-helpers.js';
import { bearerStatus, createJwtApp, refreshStatus, refreshWith, tokenLogin } from './support/jwt-helpers.js';
import { startPostgresServer, uniqueTableName, type PostgresServerHandle } from './support/postgres-server.js';
import { ADAPTERS, createTestApp, sessionCookieFrom, TEST_USERS, type AdapterName } from './support/test-app.js';

let server: PostgresServerHandle;
let admin: pg.Pool;

beforeAll(async () => {
  server = await startPostgresServer();
  admin = new pg.Pool({ connectionString: server.connectionString, max: 2 });
});

afterAll(async () => {
  await admin?.end();
  await server?.dispose();
});

describe.each(ADAPTERS)('flows over %s on the PostgreSQL store', (adapter: AdapterName) => {
  const apps: INestApplication[] = [];
  let tableName: string;
  let store: SessionStoreOption;

  beforeEach(() => {
    tableName = uniqueTableName();
    store = server.storeOptions({ tableName });
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function sessionApp(session: Record<string, unknown> = {}): Promise<INestApplication> {
    const app = await createTestApp({ adapter, session: { store, ...session } });
    apps.push(app);
    return app;
  }

  const rowsOf = async (table: string): Promise<number> =>
    Number((await admin.query(`SELECT count(*) AS n FROM "${server.schema}"."${table}"`)).rows[0].n);

  describe('session mode', () => {
    it('logs in, keeps data, lists and revokes sessions, and logs out everywhere', async () => {
      const app = await sessionApp();
      const first = await login(app, 'alice');
      const second = await login(app, 'alice', { userAgent: 'second-device/1.0' });
      expect((await http(app).get('/auth/me').set('Cookie', first.cookie)).body).toEqual({ user: TEST_USERS.alice.user });

      expect((await http(app).put('/probe/data/cart').set('Cookie', first.cookie).send({ value: ['apple'] })).status).toBe(200);
      expect((await http(app).get('/probe/data').set('Cookie', first.cookie)).body).toEqual({ cart: ['apple'] });

      const list = await http(app).get('/auth/sessions').set('Cookie', first.cookie);
      expect(list.status).toBe(200);
      expect(list.body).toHaveLength(2);
      const other = (list.body as Array<{ id: string; current: boolean; userAgent: string | null }>).find((entry) => !entry.current)!;
      expect(other.userAgent).toBe('second-device/1.0');

      expect((await http(app).delete(`/auth/sessions/${other.id}`).set('Cookie', first.cookie)).status).toBe(204);
      expect(await meStatus(app, second.cookie)).toBe(401);
      expect(await meStatus(app, first.cookie)).toBe(200);

      const third = await login(app, 'alice');
      expect((await http(app).post('/auth/logout-all').set('Cookie', first.cookie)).status).toBe(204);
      expect(await meStatus(app, first.cookie)).toBe(401);
      expect(await meStatus(app, third.cookie)).toBe(401);
      expect(await rowsOf(tableName)).toBe(0);
    });

    it('rotates on a privilege change and on a password change: new cookies work, old ones are dead', async () => {
      const app = await sessionApp();
      const { cookie } = await login(app, 'alice');
      const other = await login(app, 'alice');

      const promoted = await http(app).post('/probe/promote').set('Cookie', cookie);
      const promotedCookie = sessionCookieFrom(promoted);
      expect(await meStatus(app, cookie)).toBe(401);
      expect((await http(app).get('/probe/admin').set('Cookie', promotedCookie)).status).toBe(200);

      const changed = await http(app).post('/probe/password-changed').set('Cookie', promotedCookie);
      expect(changed.body.revoked).toBe(1);
      const kept = sessionCookieFrom(changed);
      expect(await meStatus(app, other.cookie)).toBe(401);
      expect(await meStatus(app, promotedCookie)).toBe(401);
      expect(await meStatus(app, kept)).toBe(200);
    });

    it('stores the token only as a digest: no row holds the cookie token', async () => {
      const app = await sessionApp();
      const { cookie } = await login(app, 'alice');
      const token = decodeURIComponent(cookie.slice('sid='.length)).split('.')[1];
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const dump = (await admin.query(`SELECT row_to_json(s)::text AS row FROM "${server.schema}"."${tableName}" s`)).rows;
      expect(dump).toHaveLength(1);
      expect(dump[0].row).not.toContain(token);
    });

    it('throttles logins with counters in the PostgreSQL throttle table (429 + Retry-After)', async () => {
      const app = await sessionApp({ loginThrottle: { perAccountAndIp: { attempts: 2, window: '1m' } } });
      for (let i = 0; i < 2; i++) {
        expect((await http(app).post('/auth/login').send({ username: 'alice', password: 'wrong-password' })).status).toBe(401);
      }
      const refused = await http(app).post('/auth/login').send({ username: 'alice', password: 'wrong-password' });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(await rowsOf(`${tableName}_throttle`)).toBeGreaterThan(0);
    });
  });

  describe('jwt and hybrid modes', () => {
    it('jwt: login, bearer, refresh, reuse of a consumed refresh token ends the family, logout by refresh token', async () => {
      const app = await createJwtApp({ adapter, store });
      apps.push(app);
      const { accessToken, refreshToken } = await tokenLogin(app, 'alice');
      expect(await bearerStatus(app, accessToken)).toBe(200);

      const refreshed = await refreshWith(app, refreshToken);
      expect(refreshed.status).toBe(200);
      const next = refreshed.body as { accessToken: string; refreshToken: string };
      expect(await bearerStatus(app, next.accessToken)).toBe(200);

      expect(await refreshStatus(app, refreshToken)).toBe(401);
      expect(await refreshStatus(app, next.refreshToken)).toBe(401);
      expect(await bearerStatus(app, next.accessToken)).toBe(401);

      const again = await tokenLogin(app, 'alice');
      expect((await http(app).post('/auth/logout').send({ refreshToken: again.refreshToken })).status).toBe(204);
      expect(await refreshStatus(app, again.refreshToken)).toBe(401);
      expect(await rowsOf(tableName)).toBe(0);
    });

    it('jwt: two concurrent refreshes of one token give exactly one new pair', async () => {
      const app = await createJwtApp({ adapter, store });
      apps.push(app);
      const { refreshToken } = await tokenLogin(app, 'alice');
      const statuses = (await Promise.all([refreshWith(app, refreshToken), refreshWith(app, refreshToken)])).map((res) => res.status);
      expect(statuses.sort()).toEqual([200, 401]);
    });

    it('hybrid: one login gives a cookie and tokens; logout-all ends both', async () => {
      const app = await createJwtApp({ adapter, store, mode: 'hybrid' });
      apps.push(app);
      const { response, accessToken } = await tokenLogin(app, 'alice');
      const cookie = sessionCookieFrom(response);
      expect(await meStatus(app, cookie)).toBe(200);
      expect(await bearerStatus(app, accessToken, '/probe/any')).toBe(200);

      expect((await http(app).post('/auth/logout-all').set('Authorization', `Bearer ${accessToken}`)).status).toBe(204);
      expect(await meStatus(app, cookie)).toBe(401);
      expect(await bearerStatus(app, accessToken, '/probe/any')).toBe(401);
    });
  });
});
