/**
 * POST /auth/refresh over Express and Fastify with the memory and Redis stores: token types kept
 * apart (row 12), hostile input never a 500, rotation and single use under concurrency (row 15),
 * refreshTokenTtl and the family's absolute expiry (row 16), the refresh token in an HttpOnly
 * cookie, and no token ever read from the URL (row 20).
 */
import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { Response } from 'supertest';
import {
  http,
  MATRIX,
  parseSetCookie,
  setCookies,
  sleep,
  storeOption,
  type ParsedSetCookie,
  type StoreKind,
} from './support/http-helpers.js';
import {
  bearerStatus,
  createJwtApp,
  decodeJwt,
  noStore,
  refreshStatus,
  refreshWith,
  tokenLogin,
  withBearer,
  type JwtAppOptions,
} from './support/jwt-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import type { AdapterName } from './support/test-app.js';

/** Slack for the gap between the client's clock readings and the server's (and Redis's). */
const SLACK_MS = 100;

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

interface Pair {
  accessToken: string;
  refreshToken: string;
}

/** The refresh cookie of that name in a response, parsed; fails when missing or repeated. */
function refreshSetCookie(response: Response, name: string): ParsedSetCookie {
  const matches = setCookies(response)
    .map(parseSetCookie)
    .filter((cookie) => cookie.name === name);
  if (matches.length !== 1) throw new Error(`expected one ${name} Set-Cookie, got ${JSON.stringify(setCookies(response))}`);
  return matches[0];
}

describe.each(MATRIX)('token refresh over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  function start(options: Omit<JwtAppOptions, 'adapter' | 'store'> = {}): Promise<INestApplication> {
    return createJwtApp({ ...options, adapter, store: storeOption(store, redis.url) });
  }

  describe('with the refresh token in the body', () => {
    let app: INestApplication;

    beforeEach(async () => {
      app = await start();
    });

    afterEach(async () => {
      await app?.close();
    });

    it('refuses a refresh token presented as a bearer token with 401 (row 12)', async () => {
      const { refreshToken } = await tokenLogin(app, 'alice');
      expect(await bearerStatus(app, refreshToken, '/probe/bearer')).toBe(401);
      expect(await bearerStatus(app, refreshToken, '/probe/any')).toBe(401);
      expect(await refreshStatus(app, refreshToken)).toBe(200);
    });

    it('refuses an access token sent to /auth/refresh with 401, and the family stays usable (row 12)', async () => {
      const { accessToken, refreshToken } = await tokenLogin(app, 'alice');
      expect(await refreshStatus(app, accessToken)).toBe(401);
      expect(await bearerStatus(app, accessToken)).toBe(200);
      expect(await refreshStatus(app, refreshToken)).toBe(200);
    });

    it.each([
      ['a garbage string', { refreshToken: 'garbage' }],
      ['an empty string', { refreshToken: '' }],
      ['no refreshToken', {}],
      ['a number', { refreshToken: 12345 }],
      ['null', { refreshToken: null }],
      ['a boolean', { refreshToken: true }],
      ['an array', { refreshToken: ['a.b.c'] }],
      ['an object', { refreshToken: { $ne: '' } }],
      ['a 10 000-character string', { refreshToken: 'a'.repeat(10_000) }],
      ['control characters', { refreshToken: 'abc\u0000\r\ndef' }],
      ['a well-formed token nobody issued', { refreshToken: `${randomBytes(9).toString('base64url')}.${randomBytes(32).toString('base64url')}.${randomBytes(32).toString('base64url')}` }],
      ['a JSON array body', [{ refreshToken: 'x' }]],
    ])('answers %s with 401, never 500', async (_label, body) => {
      const response = await http(app).post('/auth/refresh').send(body as object);
      expect(response.status).toBe(401);
      expect(response.body).not.toHaveProperty('accessToken');
    });

    it('answers a refresh with no body at all with 401', async () => {
      expect((await http(app).post('/auth/refresh')).status).toBe(401);
    });

    it.each([
      ['text that is not JSON', 'application/json', 'refreshToken=abc'],
      ['truncated JSON', 'application/json', '{"refreshToken": '],
      ['a JSON string', 'application/json', '"abc"'],
      ['JSON null', 'application/json', 'null'],
      ['plain text', 'text/plain', 'abc'],
      ['a form', 'application/x-www-form-urlencoded', 'refreshToken=abc'],
    ])('answers %s (%s) with a 4xx, never 500', async (_label, contentType, text) => {
      const response = await http(app).post('/auth/refresh').set('Content-Type', contentType).send(text);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    });

    it('refuses a refresh token with one changed character of its secret (row 1) without consuming the real one', async () => {
      const { refreshToken } = await tokenLogin(app, 'alice');
      const last = refreshToken.at(-1)!;
      const forged = `${refreshToken.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`;
      expect(await refreshStatus(app, forged)).toBe(401);
      expect(await refreshStatus(app, refreshToken)).toBe(200);
    });

    it.each([
      ['the last', 42],
      ['the 20th', 19],
    ])('refuses a refresh token with %s character of its session part changed (row 1), past what a Redis key names', async (_label, index) => {
      const { refreshToken } = await tokenLogin(app, 'alice');
      const [tag, sessionDigest, secret] = refreshToken.split('.');
      const changed = sessionDigest[index] === 'A' ? 'B' : 'A';
      const forged = `${tag}.${sessionDigest.slice(0, index)}${changed}${sessionDigest.slice(index + 1)}.${secret}`;
      expect(forged).not.toBe(refreshToken);
      expect(await refreshStatus(app, forged)).toBe(401);
      expect(await refreshStatus(app, refreshToken)).toBe(200);
    });

    it('rotates on every use: each refresh answers a new working pair, and every consumed token is single-use (row 15)', async () => {
      const login = await tokenLogin(app, 'alice');
      const seen = new Set([login.accessToken, login.refreshToken]);
      let current: Pair = login;
      for (let round = 0; round < 3; round++) {
        const response = await refreshWith(app, current.refreshToken);
        expect(response.status).toBe(200);
        expect(noStore(response)).toBe(true);
        const next = response.body as Pair & { tokenType: string; expiresIn: number };
        expect(next).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', expiresIn: expect.any(Number) });
        expect(seen.has(next.accessToken) || seen.has(next.refreshToken)).toBe(false);
        seen.add(next.accessToken).add(next.refreshToken);
        expect(decodeJwt(next.accessToken).payload.sid).toBe(decodeJwt(login.accessToken).payload.sid);
        expect(await bearerStatus(app, next.accessToken)).toBe(200);
        current = next;
      }
      // A consumed token again is reuse: refused, and the family with it.
      expect(await refreshStatus(app, login.refreshToken)).toBe(401);
      expect(await refreshStatus(app, current.refreshToken)).toBe(401);
      expect(await bearerStatus(app, current.accessToken)).toBe(401);
    });

    it('gives exactly one success to 10 concurrent refreshes with one token, 401 to the rest, and treats the race as reuse (row 15)', async () => {
      const { refreshToken } = await tokenLogin(app, 'alice');
      const responses = await Promise.all(Array.from({ length: 10 }, () => refreshWith(app, refreshToken)));
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([200, ...Array<number>(9).fill(401)]);

      const winner = responses.find((response) => response.status === 200)!.body as Pair;
      expect(await refreshStatus(app, winner.refreshToken)).toBe(401);
      expect(await bearerStatus(app, winner.accessToken)).toBe(401);
    });

    it('never reads tokens from the URL: ?access_token= and ?refreshToken= get 401 (row 20)', async () => {
      const { accessToken, refreshToken } = await tokenLogin(app, 'alice');
      const query = (name: string, value: string) => `${name}=${encodeURIComponent(value)}`;

      expect((await http(app).get(`/probe/bearer?${query('access_token', accessToken)}`)).status).toBe(401);
      expect((await http(app).get(`/probe/any?${query('access_token', accessToken)}`)).status).toBe(401);
      expect((await http(app).get(`/auth/me?${query('access_token', accessToken)}`)).status).toBe(401);
      expect((await http(app).post(`/auth/refresh?${query('refreshToken', refreshToken)}`)).status).toBe(401);
      expect((await http(app).post(`/auth/refresh?${query('refresh_token', refreshToken)}`).send({})).status).toBe(401);
      // Nothing was consumed through the URL: the token still works where it belongs.
      expect(await refreshStatus(app, refreshToken)).toBe(200);
    });
  });

  describe("with refreshTokenTransport 'cookie'", () => {
    let app: INestApplication;

    afterEach(async () => {
      await app?.close();
    });

    it('keeps the refresh token out of the login JSON and sets it as an HttpOnly SameSite=Strict cookie rt scoped to /auth, where the refresh and logout routes are', async () => {
      app = await start({ jwt: { refreshTokenTransport: 'cookie', refreshTokenTtl: '1h' } });
      const { response } = await tokenLogin(app, 'alice');
      expect(response.body).not.toHaveProperty('refreshToken');
      expect(response.body).toMatchObject({ accessToken: expect.any(String), tokenType: 'Bearer' });
      expect(noStore(response)).toBe(true);

      expect(setCookies(response)).toHaveLength(1);
      const cookie = refreshSetCookie(response, 'rt');
      expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
      expect(cookie.attributes.get('httponly')).toBe(true);
      expect(String(cookie.attributes.get('samesite')).toLowerCase()).toBe('strict');
      expect(cookie.attributes.get('path')).toBe('/auth');
      expect(cookie.attributes.get('max-age')).toBe('3600');
      expect(cookie.attributes.has('secure')).toBe(false);
      expect(cookie.attributes.has('domain')).toBe(false);
    });

    it('names it __Secure-rt with Secure over HTTPS behind a trusted proxy, and refreshes with that cookie only', async () => {
      app = await start({ trustProxy: true, jwt: { refreshTokenTransport: 'cookie' }, session: { cookie: { secure: 'auto' } } });
      const https = { 'X-Forwarded-Proto': 'https' };
      const { response } = await tokenLogin(app, 'alice', https);
      const cookie = refreshSetCookie(response, '__Secure-rt');
      expect(cookie.attributes.get('secure')).toBe(true);
      expect(cookie.attributes.get('httponly')).toBe(true);
      expect(String(cookie.attributes.get('samesite')).toLowerCase()).toBe('strict');
      expect(cookie.attributes.get('path')).toBe('/auth');

      // Without the prefix the cookie could have been planted over plain HTTP: not accepted.
      const unprefixed = await http(app).post('/auth/refresh').set(https).set('Cookie', `rt=${cookie.value}`);
      expect(unprefixed.status).toBe(401);

      const refreshed = await http(app).post('/auth/refresh').set(https).set('Cookie', `__Secure-rt=${cookie.value}`);
      expect(refreshed.status).toBe(200);
      const next = refreshSetCookie(refreshed, '__Secure-rt');
      expect(next.value).not.toBe(cookie.value);
      expect(next.attributes.get('secure')).toBe(true);
    });

    it('rotates the cookie on refresh with a new access token in JSON, refuses the old cookie value, and ignores a body token', async () => {
      app = await start({ jwt: { refreshTokenTransport: 'cookie' } });
      const login = await tokenLogin(app, 'alice');
      const first = refreshSetCookie(login.response, 'rt');

      // The cookie is the only transport: the same token in the body is not accepted.
      expect(await refreshStatus(app, first.value)).toBe(401);

      const refreshed = await http(app).post('/auth/refresh').set('Cookie', `rt=${first.value}`);
      expect(refreshed.status).toBe(200);
      expect(noStore(refreshed)).toBe(true);
      expect(refreshed.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: expect.any(Number) });
      const accessToken = (refreshed.body as { accessToken: string }).accessToken;
      expect(accessToken).not.toBe(login.accessToken);
      expect(await bearerStatus(app, accessToken)).toBe(200);
      const second = refreshSetCookie(refreshed, 'rt');
      expect(second.value).not.toBe(first.value);
      expect(second.attributes.get('httponly')).toBe(true);
      expect(second.attributes.get('path')).toBe('/auth');

      const reused = await http(app).post('/auth/refresh').set('Cookie', `rt=${first.value}`);
      expect(reused.status).toBe(401);
      expect((await http(app).post('/auth/refresh').set('Cookie', `rt=${second.value}`)).status).toBe(401);
    });

    it('clears the refresh cookie on logout, and its value is refused afterwards', async () => {
      app = await start({ jwt: { refreshTokenTransport: 'cookie' } });
      const login = await tokenLogin(app, 'alice');
      const cookie = refreshSetCookie(login.response, 'rt');

      const logout = await http(app).post('/auth/logout').set('Authorization', `Bearer ${login.accessToken}`);
      expect(logout.status).toBe(204);
      const cleared = refreshSetCookie(logout, 'rt');
      expect(cleared.value).toBe('');
      expect(cleared.attributes.get('path')).toBe('/auth');
      const maxAge = cleared.attributes.get('max-age');
      const expires = cleared.attributes.get('expires');
      expect(maxAge === '0' || (typeof expires === 'string' && Date.parse(expires) <= Date.now())).toBe(true);

      expect((await http(app).post('/auth/refresh').set('Cookie', `rt=${cookie.value}`)).status).toBe(401);
      expect(await bearerStatus(app, login.accessToken)).toBe(401);
    });

    it('never takes the refresh cookie as a bearer credential nor reads it on other routes', async () => {
      app = await start({ jwt: { refreshTokenTransport: 'cookie' } });
      const login = await tokenLogin(app, 'alice');
      const cookie = refreshSetCookie(login.response, 'rt');
      expect((await http(app).get('/probe/any').set('Cookie', `rt=${cookie.value}`)).status).toBe(401);
      expect((await withBearer(app, '/probe/bearer', cookie.value)).status).toBe(401);
    });
  });
});

/** Timed, so the combinations run side by side (it.concurrent) rather than one after another. */
describe('refresh token lifetimes', () => {
  function start(adapter: AdapterName, store: StoreKind, options: Omit<JwtAppOptions, 'adapter' | 'store'>): Promise<INestApplication> {
    return createJwtApp({ ...options, adapter, store: storeOption(store, redis.url) });
  }

  it.concurrent.each(MATRIX)('over %s with the %s store refuses a refresh token left unused for longer than refreshTokenTtl (2 s)', async (adapter, store) => {
    const app = await start(adapter, store, { jwt: { refreshTokenTtl: '2s', accessTokenTtl: '1s' } });
    try {
      const login = await tokenLogin(app, 'alice');
      const refreshed = await refreshWith(app, login.refreshToken);
      const issuedBy = Date.now();
      expect(refreshed.status).toBe(200);
      const { refreshToken } = refreshed.body as Pair;

      await sleep(issuedBy + 2_000 + 200 - Date.now());
      expect(await refreshStatus(app, refreshToken)).toBe(401);
    } finally {
      await app.close();
    }
  });

  it.concurrent.each(MATRIX)('over %s with the %s store ends the family at absoluteTimeout (4 s) however often it is refreshed, and never issues an access token past that deadline (row 16)', async (adapter, store) => {
    const app = await start(adapter, store, {
      session: { absoluteTimeout: '4s', idleTimeout: '2s' },
      jwt: { refreshTokenTtl: '2s', accessTokenTtl: '1s' },
    });
    try {
      // Log in half-way through a second so that one refresh can land in the deadline's own
      // second, the only place where an exp of now + 1 s would pass the deadline.
      await sleep((1_500 - (Date.now() % 1_000)) % 1_000);
      const loginStartedAt = Date.now();
      const login = await tokenLogin(app, 'alice');
      const loginEndedAt = Date.now();
      const earliestDeadline = loginStartedAt + 4_000;
      const latestDeadline = loginEndedAt + 4_000;

      const observations: Array<{ sentAt: number; receivedAt: number; status: number }> = [];
      const issued: string[] = [login.accessToken];
      let current: Pair = login;
      // Every ~0.8 s, one more at 3.75 s (inside the deadline's second), one past the deadline.
      for (const offset of [800, 1_600, 2_400, 3_200, 3_750, 4_800]) {
        await sleep(loginStartedAt + offset - Date.now());
        const sentAt = Date.now();
        const response = await refreshWith(app, current.refreshToken);
        observations.push({ sentAt, receivedAt: Date.now(), status: response.status });
        if (response.status === 200) {
          current = response.body as Pair;
          issued.push(current.accessToken);
        }
      }

      const before = observations.filter((o) => o.receivedAt < earliestDeadline - SLACK_MS);
      const after = observations.filter((o) => o.sentAt > latestDeadline + SLACK_MS);
      expect(before.length).toBeGreaterThanOrEqual(5);
      expect(before.map((o) => o.status)).toEqual(before.map(() => 200));
      expect(after.length).toBeGreaterThanOrEqual(1);
      expect(after.map((o) => o.status)).toEqual(after.map(() => 401));

      // The last token refused was fresh: well inside its own 2 s lifetime.
      const lastSuccess = observations.filter((o) => o.status === 200).at(-1)!;
      expect(observations.at(-1)!.sentAt - lastSuccess.receivedAt).toBeLessThan(2_000 - SLACK_MS);

      for (const token of issued) {
        const { iat, exp } = decodeJwt(token).payload as { iat: number; exp: number };
        expect(exp * 1000).toBeLessThanOrEqual(latestDeadline);
        expect(exp - iat).toBeLessThanOrEqual(1);
      }
      expect(await bearerStatus(app, current.accessToken)).toBe(401);
    } finally {
      await app.close();
    }
  });
});
