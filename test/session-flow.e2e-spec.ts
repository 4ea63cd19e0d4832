/**
 * The session lifecycle through HTTP: login, data, the session list and revocation, roles,
 * rotation on privilege change, over Express and Fastify, with the memory and Redis stores.
 */
import type { INestApplication } from '@nestjs/common';
import { cookieValue, http, login, MATRIX, meStatus, setCookies, storeOption, type StoreKind } from './support/http-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { createTestApp, sessionCookieFrom, TEST_USERS, type AdapterName } from './support/test-app.js';

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

describe.each(MATRIX)('session flow over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication;

  beforeEach(async () => {
    app = await createTestApp({ adapter, session: { store: storeOption(store, redis.url) } });
  });

  afterEach(async () => {
    await app?.close();
  });

  describe('login and /auth/me', () => {
    it('answers a correct login with 200 and the user, sets the session cookie, and /auth/me knows the user only with that cookie', async () => {
      const { response, cookie } = await login(app, 'alice');
      expect(response.body).toEqual({ user: TEST_USERS.alice.user });
      expect(cookie).toMatch(/^sid=.+/);

      const me = await http(app).get('/auth/me').set('Cookie', cookie);
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ user: TEST_USERS.alice.user });

      expect(await meStatus(app)).toBe(401);
    });

    it('answers a wrong password and an unknown user with the same 401 status and body, without a cookie', async () => {
      const wrongPassword = await http(app).post('/auth/login').send({ username: 'alice', password: 'not-her-password' });
      const unknownUser = await http(app).post('/auth/login').send({ username: 'mallory', password: 'alice-password' });
      expect(wrongPassword.status).toBe(401);
      expect(unknownUser.status).toBe(401);
      expect(unknownUser.body).toEqual(wrongPassword.body);
      expect(setCookies(wrongPassword)).toEqual([]);
      expect(setCookies(unknownUser)).toEqual([]);
    });

    it.each([
      ['a missing password', { username: 'alice' }],
      ['a missing username', { password: 'alice-password' }],
      ['an empty object', {}],
      ['a numeric password', { username: 'alice', password: 12345 }],
      ['an object as password', { username: 'alice', password: { $ne: '' } }],
      ['an array as password', { username: 'alice', password: ['alice-password'] }],
      ['empty strings', { username: '', password: '' }],
      ['an empty password', { username: 'alice', password: '' }],
      ['an array body', [{ username: 'alice', password: 'alice-password' }]],
    ])('answers a login body with %s with 400, never 500', async (_label, body) => {
      const response = await http(app).post('/auth/login').send(body as object);
      expect(response.status).toBe(400);
      expect(setCookies(response)).toEqual([]);
    });

    it.each([
      ['text that is not JSON', 'username=alice&password=alice-password'],
      ['truncated JSON', '{"username": "alice", "password": '],
      ['a JSON string', '"alice"'],
      ['JSON null', 'null'],
    ])('answers %s sent as application/json with 400, never 500', async (_label, text) => {
      const response = await http(app).post('/auth/login').set('Content-Type', 'application/json').send(text);
      expect(response.status).toBe(400);
      expect(setCookies(response)).toEqual([]);
    });
  });

  describe('session data', () => {
    it('keeps data written with PUT /probe/data/:key and returns it from GET /probe/data', async () => {
      const { cookie } = await login(app, 'alice');
      const put = await http(app).put('/probe/data/theme').set('Cookie', cookie).send({ value: { dark: true } });
      expect(put.status).toBe(200);
      await http(app).put('/probe/data/count').set('Cookie', cookie).send({ value: 3 }).expect(200);

      const data = await http(app).get('/probe/data').set('Cookie', cookie);
      expect(data.status).toBe(200);
      expect(data.body).toEqual({ theme: { dark: true }, count: 3 });
    });

    it('sets no cookie on a plain public request, and creates an anonymous session only once data is stored', async () => {
      const plain = await http(app).get('/probe/public');
      expect(plain.status).toBe(200);
      expect(setCookies(plain)).toEqual([]);

      const stored = await http(app).put('/probe/anonymous/cart').send({ value: ['book'] });
      expect(stored.status).toBe(200);
      expect(stored.body).toEqual({ cart: ['book'] });
      expect(sessionCookieFrom(stored)).toMatch(/^sid=.+/);
    });

    it('sets no cookie when an anonymous visitor only deletes a key, since nothing is stored', async () => {
      const deleted = await http(app).put('/probe/anonymous/cart').send({});
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({});
      expect(setCookies(deleted)).toEqual([]);
    });

    it('carries data stored on an anonymous session over to the session created by login', async () => {
      const anonymous = await http(app).put('/probe/anonymous/cart').send({ value: ['book', 'pen'] });
      const anonymousCookie = sessionCookieFrom(anonymous);
      const { cookie } = await login(app, 'alice', { cookie: anonymousCookie });

      const data = await http(app).get('/probe/data').set('Cookie', cookie);
      expect(data.status).toBe(200);
      expect(data.body).toEqual({ cart: ['book', 'pen'] });
    });

    it('keeps every key when 25 parallel requests on one session each set a different key', async () => {
      const { cookie } = await login(app, 'alice');
      const count = 25;
      const responses = await Promise.all(
        Array.from({ length: count }, (_, i) => http(app).put(`/probe/data/k${i}`).set('Cookie', cookie).send({ value: i })),
      );
      expect(responses.map((response) => response.status)).toEqual(Array(count).fill(200));

      const data = await http(app).get('/probe/data').set('Cookie', cookie);
      expect(data.body).toEqual(Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i])));
    });
  });

  describe('the session list (SECURITY row 9)', () => {
    it('lists both of alice’s sessions with exactly one marked current and only the public fields', async () => {
      const first = await login(app, 'alice', { userAgent: 'client-one' });
      const second = await login(app, 'alice', { userAgent: 'client-two' });
      await login(app, 'root', { userAgent: 'client-root' });

      const list = await http(app).get('/auth/sessions').set('Cookie', first.cookie).set('User-Agent', 'client-one');
      expect(list.status).toBe(200);
      const sessions = list.body as Array<Record<string, unknown>>;
      expect(sessions).toHaveLength(2);
      expect(sessions.filter((session) => session.current === true)).toHaveLength(1);
      expect(sessions.filter((session) => session.current === false)).toHaveLength(1);
      for (const session of sessions) {
        expect(Object.keys(session).sort()).toEqual(['createdAt', 'current', 'expiresAt', 'id', 'ip', 'lastSeenAt', 'userAgent']);
        expect(typeof session.id).toBe('string');
        expect((session.id as string).length).toBeGreaterThan(0);
        for (const field of ['createdAt', 'lastSeenAt', 'expiresAt']) {
          expect(Number.isNaN(Date.parse(session[field] as string))).toBe(false);
        }
      }
      expect(sessions.map((session) => session.userAgent).sort()).toEqual(['client-one', 'client-two']);
      expect(sessions.find((session) => session.current)?.userAgent).toBe('client-one');

      // The public id is neither the token nor any piece of either cookie.
      for (const { cookie } of [first, second]) {
        const value = cookieValue(cookie);
        for (const session of sessions) {
          const id = session.id as string;
          expect(value.includes(id)).toBe(false);
          expect(value.split('.')).not.toContain(id);
        }
      }
    });

    it('does not show root’s sessions in alice’s list', async () => {
      const alice = await login(app, 'alice');
      const root = await login(app, 'root');
      const rootList = await http(app).get('/auth/sessions').set('Cookie', root.cookie);
      const rootIds = (rootList.body as Array<{ id: string }>).map((session) => session.id);
      expect(rootIds).toHaveLength(1);

      const aliceList = await http(app).get('/auth/sessions').set('Cookie', alice.cookie);
      const aliceIds = (aliceList.body as Array<{ id: string }>).map((session) => session.id);
      expect(aliceIds).toHaveLength(1);
      expect(aliceIds).not.toContain(rootIds[0]);
    });

    it('refuses the session list without a session cookie', async () => {
      expect((await http(app).get('/auth/sessions')).status).toBe(401);
    });
  });

  describe('ending sessions', () => {
    async function otherSessionId(cookie: string): Promise<string> {
      const list = await http(app).get('/auth/sessions').set('Cookie', cookie);
      const other = (list.body as Array<{ id: string; current: boolean }>).find((session) => !session.current);
      if (!other) throw new Error(`no other session in ${JSON.stringify(list.body)}`);
      return other.id;
    }

    async function currentSessionId(cookie: string): Promise<string> {
      const list = await http(app).get('/auth/sessions').set('Cookie', cookie);
      const current = (list.body as Array<{ id: string; current: boolean }>).find((session) => session.current);
      if (!current) throw new Error(`no current session in ${JSON.stringify(list.body)}`);
      return current.id;
    }

    it('ends another of the user’s sessions with DELETE /auth/sessions/:id, whose cookie is refused afterwards', async () => {
      const kept = await login(app, 'alice');
      const ended = await login(app, 'alice');
      const id = await otherSessionId(kept.cookie);

      const response = await http(app).delete(`/auth/sessions/${id}`).set('Cookie', kept.cookie);
      expect(response.status).toBe(204);
      expect(await meStatus(app, ended.cookie)).toBe(401);
      expect(await meStatus(app, kept.cookie)).toBe(200);

      const list = await http(app).get('/auth/sessions').set('Cookie', kept.cookie);
      expect((list.body as Array<{ id: string }>).map((session) => session.id)).not.toContain(id);
    });

    it('answers DELETE /auth/sessions/:id with 404 for an unknown id and for another user’s session, which stays alive', async () => {
      const alice = await login(app, 'alice');
      const root = await login(app, 'root');
      const rootId = await currentSessionId(root.cookie);

      expect((await http(app).delete('/auth/sessions/no-such-session').set('Cookie', alice.cookie)).status).toBe(404);
      expect((await http(app).delete(`/auth/sessions/${rootId}`).set('Cookie', alice.cookie)).status).toBe(404);
      expect(await meStatus(app, root.cookie)).toBe(200);
      expect(await meStatus(app, alice.cookie)).toBe(200);
    });

    it('logs the caller out when DELETE /auth/sessions/:id names the current session', async () => {
      const alice = await login(app, 'alice');
      const id = await currentSessionId(alice.cookie);
      expect((await http(app).delete(`/auth/sessions/${id}`).set('Cookie', alice.cookie)).status).toBe(204);
      expect(await meStatus(app, alice.cookie)).toBe(401);
    });

    it('ends every one of the caller’s sessions with POST /auth/logout-all and leaves other users alone', async () => {
      const cookies = [await login(app, 'alice'), await login(app, 'alice'), await login(app, 'alice')].map((l) => l.cookie);
      const root = await login(app, 'root');

      const response = await http(app).post('/auth/logout-all').set('Cookie', cookies[0]);
      expect(response.status).toBe(204);
      for (const cookie of cookies) expect(await meStatus(app, cookie)).toBe(401);
      expect(await meStatus(app, root.cookie)).toBe(200);
    });

    it('ends every session of a disabled user through AuthService.revokeAllSessions (SECURITY row 7)', async () => {
      const cookies = [await login(app, 'alice'), await login(app, 'alice')].map((l) => l.cookie);
      const root = await login(app, 'root');

      const response = await http(app).post('/probe/disable/u-alice');
      expect(response.status).toBe(201);
      expect(response.body).toEqual({ revoked: 2 });
      for (const cookie of cookies) expect(await meStatus(app, cookie)).toBe(401);
      expect(await meStatus(app, root.cookie)).toBe(200);
    });

    it('after a password change ends the other sessions and keeps the current one on a new cookie, the old one dead (SECURITY row 8)', async () => {
      const current = await login(app, 'alice');
      const other = await login(app, 'alice');
      const root = await login(app, 'root');
      await http(app).put('/probe/data/draft').set('Cookie', current.cookie).send({ value: 'kept' }).expect(200);

      const response = await http(app).post('/probe/password-changed').set('Cookie', current.cookie);
      expect(response.status).toBe(201);
      expect(response.body).toEqual({ revoked: 1 });
      const renewed = sessionCookieFrom(response);
      expect(renewed).not.toBe(current.cookie);

      expect(await meStatus(app, other.cookie)).toBe(401);
      expect(await meStatus(app, current.cookie)).toBe(401);
      expect(await meStatus(app, renewed)).toBe(200);
      expect(await meStatus(app, root.cookie)).toBe(200);
      expect((await http(app).get('/probe/data').set('Cookie', renewed)).body).toEqual({ draft: 'kept' });
    });
  });

  describe('roles and privilege change', () => {
    it('lets an admin through RolesGuard, refuses a plain user with 403 and an anonymous caller with 401', async () => {
      const alice = await login(app, 'alice');
      const root = await login(app, 'root');
      expect((await http(app).get('/probe/admin').set('Cookie', alice.cookie)).status).toBe(403);
      const admin = await http(app).get('/probe/admin').set('Cookie', root.cookie);
      expect(admin.status).toBe(200);
      expect(admin.body).toEqual({ admin: true });
      expect((await http(app).get('/probe/admin')).status).toBe(401);
    });

    it('rotates the session on a privilege change: a new cookie that carries the new role, the old cookie dead (SECURITY row 3)', async () => {
      const alice = await login(app, 'alice');
      await http(app).put('/probe/data/draft').set('Cookie', alice.cookie).send({ value: 42 }).expect(200);

      const response = await http(app).post('/probe/promote').set('Cookie', alice.cookie);
      expect(response.status).toBe(201);
      const promoted = sessionCookieFrom(response);
      expect(promoted).not.toBe(alice.cookie);

      expect(await meStatus(app, alice.cookie)).toBe(401);
      expect((await http(app).get('/probe/admin').set('Cookie', alice.cookie)).status).toBe(401);
      expect((await http(app).get('/probe/admin').set('Cookie', promoted)).status).toBe(200);
      const me = await http(app).get('/auth/me').set('Cookie', promoted);
      expect(me.body.user.roles).toEqual(['user', 'admin']);
      expect((await http(app).get('/probe/data').set('Cookie', promoted)).body).toEqual({ draft: 42 });
    });
  });
});
