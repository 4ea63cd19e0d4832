/**
 * JWT and hybrid modes through HTTP, over Express and Fastify with the memory and Redis stores:
 * what login issues, the login → bearer → refresh → reuse → logout chain (SECURITY rows 6, 15),
 * hybrid credentials, per-request vs stateless revocation (row 17), the session list and
 * revocation of token families (rows 7, 9), rotation on privilege change, key rotation and the
 * JWKS endpoint checked with an independent library (rows 11, 12, 21).
 */
import type { INestApplication } from '@nestjs/common';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { MemorySessionStore, type JwtKeyOption, type SessionStoreOption } from '../src/index.js';
import { http, MATRIX, setCookies, sleep, storeOption, uniqueKeyPrefix, type StoreKind } from './support/http-helpers.js';
import {
  bearerStatus,
  createJwtApp,
  decodeJwt,
  noStore,
  refreshStatus,
  refreshWith,
  TEST_KEYS,
  tokenLogin,
  verifyOnly,
  withBearer,
  type JwtAppOptions,
} from './support/jwt-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { sessionCookieFrom, TEST_USERS, type AdapterName } from './support/test-app.js';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'probe-api';

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

describe.each(MATRIX)('JWT and hybrid flows over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  const apps: INestApplication[] = [];

  async function start(options: Omit<JwtAppOptions, 'adapter' | 'store'> & { store?: SessionStoreOption } = {}) {
    const app = await createJwtApp({ ...options, adapter, store: options.store ?? storeOption(store, redis.url) });
    apps.push(app);
    return app;
  }

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  describe('jwt mode', () => {
    let app: INestApplication;

    beforeEach(async () => {
      app = await start({ jwt: { keys: [TEST_KEYS.hs1], issuer: ISSUER, audience: AUDIENCE, accessTokenTtl: '5m' } });
    });

    it('answers login with the user, an access and a refresh token, tokenType Bearer and expiresIn, sets no cookie and forbids caching', async () => {
      const { response, accessToken, refreshToken } = await tokenLogin(app, 'alice');
      expect(response.body).toEqual({
        user: TEST_USERS.alice.user,
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 300,
      });
      expect(accessToken).not.toBe(refreshToken);
      expect(setCookies(response)).toEqual([]);
      expect(noStore(response)).toBe(true);
    });

    it('answers a refresh with Cache-Control: no-store and sets no cookie', async () => {
      const { refreshToken } = await tokenLogin(app, 'alice');
      const refreshed = await refreshWith(app, refreshToken);
      expect(refreshed.status).toBe(200);
      expect(noStore(refreshed)).toBe(true);
      expect(setCookies(refreshed)).toEqual([]);
    });

    it('lets the bearer token through JwtGuard and AuthenticatedGuard (via bearer) but not the cookie-only SessionGuard', async () => {
      const { accessToken } = await tokenLogin(app, 'alice');

      const bearer = await withBearer(app, '/probe/bearer', accessToken);
      expect(bearer.status).toBe(200);
      expect(bearer.body).toEqual({ user: TEST_USERS.alice.user });

      const any = await withBearer(app, '/probe/any', accessToken);
      expect(any.status).toBe(200);
      expect(any.body).toEqual({ user: TEST_USERS.alice.user, via: 'bearer' });

      expect(await bearerStatus(app, accessToken, '/probe/guarded')).toBe(401);
      expect((await http(app).get('/probe/bearer')).status).toBe(401);
    });

    it('issues access tokens with typ at+jwt and the signing kid, and sub, sid, jti, iat, exp, iss, aud and roles, exp - iat being accessTokenTtl', async () => {
      const first = decodeJwt((await tokenLogin(app, 'alice')).accessToken);
      const second = decodeJwt((await tokenLogin(app, 'alice')).accessToken);

      expect(first.header).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: TEST_KEYS.hs1.kid });
      expect(first.payload).toEqual({
        sub: 'u-alice',
        sid: expect.stringMatching(/^[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{43}$/),
        jti: expect.stringMatching(/^[A-Za-z0-9_-]{22,}$/),
        iat: expect.any(Number),
        exp: expect.any(Number),
        iss: ISSUER,
        aud: AUDIENCE,
        roles: ['user'],
      });
      const { iat, exp } = first.payload as { iat: number; exp: number };
      expect(exp - iat).toBe(300);
      expect(Math.abs(iat - Date.now() / 1000)).toBeLessThan(5);
      // Two logins are two token families, each token unique.
      expect(second.payload.jti).not.toBe(first.payload.jti);
      expect(second.payload.sid).not.toBe(first.payload.sid);
    });

    it('runs login → bearer → refresh → reuse detection revoking the family → fresh login → logout killing both tokens (rows 6, 15)', async () => {
      const first = await tokenLogin(app, 'alice');
      expect(await bearerStatus(app, first.accessToken)).toBe(200);

      const refreshed = await refreshWith(app, first.refreshToken);
      expect(refreshed.status).toBe(200);
      const second = refreshed.body as { accessToken: string; refreshToken: string; tokenType: string; expiresIn: number };
      expect(second).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', expiresIn: 300 });
      expect(second.accessToken).not.toBe(first.accessToken);
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(await bearerStatus(app, second.accessToken)).toBe(200);

      // The consumed token comes back: reuse. The whole family dies, its newest tokens with it.
      expect(await refreshStatus(app, first.refreshToken)).toBe(401);
      expect(await refreshStatus(app, second.refreshToken)).toBe(401);
      expect(await bearerStatus(app, second.accessToken)).toBe(401);
      expect(await bearerStatus(app, first.accessToken)).toBe(401);

      const fresh = await tokenLogin(app, 'alice');
      expect(await bearerStatus(app, fresh.accessToken)).toBe(200);
      const logout = await http(app).post('/auth/logout').set('Authorization', `Bearer ${fresh.accessToken}`);
      expect(logout.status).toBe(204);
      expect(setCookies(logout)).toEqual([]);
      expect(await bearerStatus(app, fresh.accessToken)).toBe(401);
      expect(await bearerStatus(app, fresh.accessToken, '/probe/any')).toBe(401);
      expect(await refreshStatus(app, fresh.refreshToken)).toBe(401);
    });
  });

  describe('hybrid mode', () => {
    let app: INestApplication;

    beforeEach(async () => {
      app = await start({ mode: 'hybrid' });
    });

    it('sets the session cookie and returns the tokens at login', async () => {
      const { response } = await tokenLogin(app, 'alice');
      expect(sessionCookieFrom(response)).toMatch(/^sid=.+/);
      expect(response.body).toEqual({
        user: TEST_USERS.alice.user,
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: expect.any(Number),
      });
      expect(noStore(response)).toBe(true);
    });

    it('lets AuthenticatedGuard take the cookie (via cookie) or the bearer (via bearer), JwtGuard only the bearer and SessionGuard only the cookie', async () => {
      const { response, accessToken } = await tokenLogin(app, 'alice');
      const cookie = sessionCookieFrom(response);

      const viaCookie = await http(app).get('/probe/any').set('Cookie', cookie);
      expect(viaCookie.status).toBe(200);
      expect(viaCookie.body).toEqual({ user: TEST_USERS.alice.user, via: 'cookie' });
      const viaBearer = await withBearer(app, '/probe/any', accessToken);
      expect(viaBearer.status).toBe(200);
      expect(viaBearer.body).toEqual({ user: TEST_USERS.alice.user, via: 'bearer' });

      expect((await http(app).get('/probe/bearer').set('Cookie', cookie)).status).toBe(401);
      expect(await bearerStatus(app, accessToken, '/probe/bearer')).toBe(200);
      expect(await bearerStatus(app, accessToken, '/probe/guarded')).toBe(401);
      expect((await http(app).get('/probe/guarded').set('Cookie', cookie)).status).toBe(200);
    });

    it('ends the bearer token and the refresh token of the same family when the cookie logs out', async () => {
      const { response, accessToken, refreshToken } = await tokenLogin(app, 'alice');
      const cookie = sessionCookieFrom(response);
      expect(await bearerStatus(app, accessToken)).toBe(200);

      const logout = await http(app).post('/auth/logout').set('Cookie', cookie);
      expect(logout.status).toBe(204);

      expect(await bearerStatus(app, accessToken)).toBe(401);
      expect(await refreshStatus(app, refreshToken)).toBe(401);
      expect((await http(app).get('/probe/any').set('Cookie', cookie)).status).toBe(401);
    });

    it('rotates on a privilege change made with the cookie: new cookie and new tokens carrying the role, the old cookie and tokens dead', async () => {
      const { response, accessToken, refreshToken } = await tokenLogin(app, 'alice');
      const cookie = sessionCookieFrom(response);

      const promoted = await http(app).post('/probe/promote').set('Cookie', cookie);
      expect(promoted.status).toBe(201);
      const body = promoted.body as { accessToken: string; refreshToken: string };
      expect(body).toEqual({ ok: true, accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', expiresIn: expect.any(Number) });
      const newCookie = sessionCookieFrom(promoted);
      expect(noStore(promoted)).toBe(true);
      expect(newCookie).not.toBe(cookie);

      expect((await http(app).get('/probe/any').set('Cookie', cookie)).status).toBe(401);
      expect(await bearerStatus(app, accessToken)).toBe(401);
      expect(await refreshStatus(app, refreshToken)).toBe(401);
      expect(await bearerStatus(app, body.accessToken, '/probe/admin')).toBe(200);
      expect((await http(app).get('/probe/admin').set('Cookie', newCookie)).status).toBe(200);
    });

    it("rotates on a privilege change made with the bearer token: a browser that sent this session's cookie along gets the new cookie, a client without it gets none", async () => {
      const { response, accessToken } = await tokenLogin(app, 'alice');
      const cookie = sessionCookieFrom(response);

      const promoted = await http(app).post('/probe/promote').set('Authorization', `Bearer ${accessToken}`).set('Cookie', cookie).expect(201);
      const newCookie = sessionCookieFrom(promoted);
      expect(newCookie).not.toBe(cookie);
      expect((await http(app).get('/probe/any').set('Cookie', cookie)).status).toBe(401);
      expect((await http(app).get('/probe/admin').set('Cookie', newCookie)).status).toBe(200);

      const other = await tokenLogin(app, 'alice');
      const bearerOnly = await http(app).post('/probe/promote').set('Authorization', `Bearer ${other.accessToken}`).expect(201);
      expect(bearerOnly.headers['set-cookie']).toBeUndefined();
    });
  });

  describe('revocation of access tokens', () => {
    it("with revocation 'per-request' (the default) refuses an access token at once after logout, and its refresh token", async () => {
      const app = await start();
      const { accessToken, refreshToken } = await tokenLogin(app, 'alice');
      expect(await bearerStatus(app, accessToken)).toBe(200);

      await http(app).post('/auth/logout').set('Authorization', `Bearer ${accessToken}`).expect(204);
      expect(await bearerStatus(app, accessToken)).toBe(401);
      expect(await refreshStatus(app, refreshToken)).toBe(401);
    });
  });

  describe('token families as sessions', () => {
    let app: INestApplication;

    beforeEach(async () => {
      app = await start();
    });

    it('lists the token families of the caller in GET /auth/sessions, flags the current one and shows no token (row 9)', async () => {
      const laptop = await tokenLogin(app, 'alice', { 'User-Agent': 'laptop' });
      const phone = await tokenLogin(app, 'alice', { 'User-Agent': 'phone' });
      await tokenLogin(app, 'root');

      const list = await withBearer(app, '/auth/sessions', laptop.accessToken);
      expect(list.status).toBe(200);
      const entries = list.body as Array<{ id: string; current: boolean; userAgent: string }>;
      expect(entries).toHaveLength(2);
      expect(entries.find((entry) => entry.userAgent === 'laptop')?.current).toBe(true);
      expect(entries.find((entry) => entry.userAgent === 'phone')?.current).toBe(false);

      const text = list.text;
      for (const token of [laptop, phone]) {
        const { sid } = decodeJwt(token.accessToken).payload as { sid: string };
        for (const secret of [token.accessToken, token.refreshToken, sid, ...token.refreshToken.split('.').slice(1)]) {
          expect(text).not.toContain(secret);
        }
      }
    });

    it('ends another family with DELETE /auth/sessions/:id: its access and refresh tokens get 401, the caller keeps working', async () => {
      const laptop = await tokenLogin(app, 'alice', { 'User-Agent': 'laptop' });
      const phone = await tokenLogin(app, 'alice', { 'User-Agent': 'phone' });
      const entries = (await withBearer(app, '/auth/sessions', laptop.accessToken)).body as Array<{ id: string; userAgent: string }>;
      const phoneId = entries.find((entry) => entry.userAgent === 'phone')!.id;

      const revoked = await http(app).delete(`/auth/sessions/${phoneId}`).set('Authorization', `Bearer ${laptop.accessToken}`);
      expect(revoked.status).toBe(204);

      expect(await bearerStatus(app, phone.accessToken)).toBe(401);
      expect(await refreshStatus(app, phone.refreshToken)).toBe(401);
      expect(await bearerStatus(app, laptop.accessToken)).toBe(200);
      expect(await refreshStatus(app, laptop.refreshToken)).toBe(200);
    });

    it("ends every family of the caller with POST /auth/logout-all and leaves other users' tokens alone (row 7)", async () => {
      const laptop = await tokenLogin(app, 'alice');
      const phone = await tokenLogin(app, 'alice');
      const root = await tokenLogin(app, 'root');

      const all = await http(app).post('/auth/logout-all').set('Authorization', `Bearer ${laptop.accessToken}`);
      expect(all.status).toBe(204);

      for (const family of [laptop, phone]) {
        expect(await bearerStatus(app, family.accessToken)).toBe(401);
        expect(await refreshStatus(app, family.refreshToken)).toBe(401);
      }
      expect(await bearerStatus(app, root.accessToken)).toBe(200);
    });

    it('ends every family of a disabled user through AuthService.revokeAllSessions (row 7)', async () => {
      const laptop = await tokenLogin(app, 'alice');
      const phone = await tokenLogin(app, 'alice');
      const root = await tokenLogin(app, 'root');

      const disabled = await http(app).post('/probe/disable/u-alice');
      expect(disabled.status).toBe(201);
      expect(disabled.body).toEqual({ revoked: 2 });

      for (const family of [laptop, phone]) {
        expect(await bearerStatus(app, family.accessToken)).toBe(401);
        expect(await refreshStatus(app, family.refreshToken)).toBe(401);
      }
      expect(await bearerStatus(app, root.accessToken)).toBe(200);
      expect(await refreshStatus(app, root.refreshToken)).toBe(200);
    });

    it('rotates a bearer session on a privilege change: a new pair, the old access and refresh tokens dead, the new access token admitted as admin', async () => {
      const { accessToken, refreshToken } = await tokenLogin(app, 'alice');
      expect(await bearerStatus(app, accessToken, '/probe/admin')).toBe(403);

      const promoted = await http(app).post('/jwt-probe/promote').set('Authorization', `Bearer ${accessToken}`);
      expect(promoted.status).toBe(201);
      const pair = promoted.body as { accessToken: string; refreshToken: string };
      expect(pair).toEqual({ ok: true, accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', expiresIn: expect.any(Number) });
      expect(pair.accessToken).not.toBe(accessToken);
      expect(pair.refreshToken).not.toBe(refreshToken);
      expect(setCookies(promoted)).toEqual([]);
      expect(noStore(promoted)).toBe(true);
      expect(decodeJwt(pair.accessToken).payload.roles).toEqual(['user', 'admin']);

      expect(await bearerStatus(app, accessToken)).toBe(401);
      expect(await refreshStatus(app, refreshToken)).toBe(401);
      expect(await bearerStatus(app, pair.accessToken, '/probe/admin')).toBe(200);
      expect(await refreshStatus(app, pair.refreshToken)).toBe(200);
    });
  });

  describe('key rotation', () => {
    let shared: MemorySessionStore | undefined;

    afterEach(async () => {
      await shared?.close();
      shared = undefined;
    });

    /** One store for several apps: one MemorySessionStore instance, or one Redis key prefix. */
    function sharedStore(): () => SessionStoreOption {
      if (store === 'memory') {
        shared = new MemorySessionStore();
        const instance = shared;
        return () => instance;
      }
      const keyPrefix = uniqueKeyPrefix('jwt-rotation');
      return () => storeOption('redis', redis.url, keyPrefix);
    }

    it.each([
      ['HS256', TEST_KEYS.hs1, TEST_KEYS.hs2, TEST_KEYS.hs1],
      ['ES256 with the old key kept verify-only', TEST_KEYS.es1, TEST_KEYS.es2, verifyOnly(TEST_KEYS.es1)],
    ] as Array<[string, JwtKeyOption, JwtKeyOption, JwtKeyOption]>)(
      '%s: a token of the old key passes while the key is listed behind the new one and fails once it is removed',
      async (_alg, oldKey, newKey, oldKeyListed) => {
        const storeFor = sharedStore();
        const before = await start({ store: storeFor(), jwt: { keys: [oldKey] } });
        const during = await start({ store: storeFor(), jwt: { keys: [newKey, oldKeyListed] } });
        const after = await start({ store: storeFor(), jwt: { keys: [newKey] } });

        const old = await tokenLogin(before, 'alice');
        expect(decodeJwt(old.accessToken).header.kid).toBe(oldKey.kid);
        expect(await bearerStatus(during, old.accessToken)).toBe(200);
        expect(await bearerStatus(after, old.accessToken)).toBe(401);

        // The app in the middle signs with the new key, which the old app does not know.
        const refreshed = await refreshWith(during, old.refreshToken);
        expect(refreshed.status).toBe(200);
        const renewed = (refreshed.body as { accessToken: string }).accessToken;
        expect(decodeJwt(renewed).header).toEqual({ alg: newKey.alg, typ: 'at+jwt', kid: newKey.kid });
        expect(await bearerStatus(after, renewed)).toBe(200);
        expect(await bearerStatus(before, renewed)).toBe(401);
      },
    );
  });

  describe('JWKS', () => {
    const asymmetric = [TEST_KEYS.rs1, TEST_KEYS.es1, TEST_KEYS.ed1];
    const jwtOptions = { issuer: ISSUER, audience: AUDIENCE };

    it('publishes the RS256, ES256 and EdDSA public keys with kid, alg and use, and no private parts', async () => {
      const app = await start({ jwt: { ...jwtOptions, keys: asymmetric } });
      const response = await http(app).get('/.well-known/jwks.json');
      expect(response.status).toBe(200);
      const { keys } = response.body as JSONWebKeySet;
      expect(keys).toHaveLength(3);
      expect(keys.map(({ kid, alg, use, kty, crv }) => ({ kid, alg, use, kty, crv }))).toEqual([
        { kid: 'rs-1', alg: 'RS256', use: 'sig', kty: 'RSA', crv: undefined },
        { kid: 'es-1', alg: 'ES256', use: 'sig', kty: 'EC', crv: 'P-256' },
        { kid: 'ed-1', alg: 'EdDSA', use: 'sig', kty: 'OKP', crv: 'Ed25519' },
      ]);
      for (const key of keys) {
        for (const privatePart of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) expect(key).not.toHaveProperty(privatePart);
      }
    });

    it.each(asymmetric.map((key) => [key.kid, key] as const))(
      'issues access tokens signed by %s that the independent jose library verifies against the published JWKS',
      async (kid, signer) => {
        const app = await start({ jwt: { ...jwtOptions, keys: [signer, ...asymmetric.filter((key) => key !== signer)] } });
        const jwks = createLocalJWKSet((await http(app).get('/.well-known/jwks.json')).body as JSONWebKeySet);
        const { accessToken } = await tokenLogin(app, 'alice');

        const { payload, protectedHeader } = await jwtVerify(accessToken, jwks, { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt' });
        expect(protectedHeader).toEqual({ alg: signer.alg, typ: 'at+jwt', kid });
        expect(payload).toMatchObject({ sub: 'u-alice', roles: ['user'] });
        expect(await bearerStatus(app, accessToken)).toBe(200);
      },
    );

    it('answers 404 when only HS256 keys are configured, and never publishes a shared secret next to public keys', async () => {
      const secretsOnly = await start({ jwt: { keys: [TEST_KEYS.hs1, TEST_KEYS.hs2] } });
      const none = await http(secretsOnly).get('/.well-known/jwks.json');
      expect(none.status).toBe(404);
      expect(none.text).not.toContain(TEST_KEYS.hs1.secret);

      const mixed = await start({ jwt: { keys: [TEST_KEYS.hs1, TEST_KEYS.es1] } });
      const published = await http(mixed).get('/.well-known/jwks.json');
      expect(published.status).toBe(200);
      expect((published.body as JSONWebKeySet).keys.map((key) => key.kid)).toEqual(['es-1']);
      expect(published.text).not.toContain(TEST_KEYS.hs1.secret);
      expect(published.text).not.toContain(Buffer.from(TEST_KEYS.hs1.secret).toString('base64url'));
    });
  });
});

/** Timed, so the combinations run side by side (it.concurrent) rather than one after another. */
describe('stateless revocation', () => {
  it.concurrent.each(MATRIX)(
    "over %s with the %s store, revocation 'stateless' keeps accepting a logged-out access token until its exp, then refuses it; the refresh token dies at once",
    async (adapter, store) => {
      const app = await createJwtApp({
        adapter,
        store: storeOption(store, redis.url),
        jwt: { keys: [TEST_KEYS.hs1], revocation: 'stateless', accessTokenTtl: '2s' },
      });
      try {
        const { accessToken, refreshToken } = await tokenLogin(app, 'alice');
        const { exp } = decodeJwt(accessToken).payload as { exp: number };

        await http(app).post('/auth/logout').set('Authorization', `Bearer ${accessToken}`).expect(204);
        expect(await refreshStatus(app, refreshToken)).toBe(401);
        // The documented cost of stateless: no store lookup, so the token lives until exp.
        expect(Date.now()).toBeLessThan(exp * 1000);
        expect(await bearerStatus(app, accessToken)).toBe(200);
        expect(await bearerStatus(app, accessToken, '/probe/any')).toBe(200);

        await sleep(exp * 1000 + 200 - Date.now());
        expect(await bearerStatus(app, accessToken)).toBe(401);
      } finally {
        await app.close();
      }
    },
  );
});
