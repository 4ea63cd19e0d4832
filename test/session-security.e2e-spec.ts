/**
 * SECURITY.md rows 1–3, 6, 10, 18–21 and "bad input never gets a 500", proved through HTTP
 * over Express and Fastify, with the memory and Redis stores.
 */
import { createHmac } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { MemorySessionStore, SessionStore, type SessionModuleOptions } from '../src/index.js';
import { newSessionToken, randomSlotTag, refOf, SessionCookieCodec } from '../src/core/session-token.js';
import {
  cookieValue,
  http,
  login,
  MATRIX,
  meStatus,
  sessionSetCookie,
  setCookies,
  storeOption,
  uniqueKeyPrefix,
  type StoreKind,
} from './support/http-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { createTestApp, sessionCookieFrom, TEST_SECRET, type AdapterName } from './support/test-app.js';

const OLD_SECRET = 'old-secret-that-is-long-enough-abcdefghijk';
const NEW_SECRET = 'new-secret-that-is-long-enough-lmnopqrstuv';
const OTHER_SECRET = 'some-other-apps-secret-long-enough-0987654321';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const HTTPS = { 'X-Forwarded-Proto': 'https' };

let redis: RedisServerHandle;
let redisClient: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  redisClient = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  await redisClient?.quit();
  await redis?.stop();
});

/** Replaces one character by its neighbour in the base64url alphabet (lowest bit of the sextet flipped). */
function changeCharacter(value: string, index: number): string {
  const replacement = BASE64URL[BASE64URL.indexOf(value[index]) ^ 1];
  return value.slice(0, index) + replacement + value.slice(index + 1);
}

function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

describe.each(MATRIX)('session security over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  const apps: INestApplication[] = [];
  const ownedStores: MemorySessionStore[] = [];

  async function makeApp(
    session: Partial<SessionModuleOptions> = {},
    options: { trustProxy?: boolean; keyPrefix?: string } = {},
  ): Promise<INestApplication> {
    const app = await createTestApp({
      adapter,
      trustProxy: options.trustProxy,
      session: { store: storeOption(store, redis.url, options.keyPrefix), ...session },
    });
    apps.push(app);
    return app;
  }

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(ownedStores.splice(0).map((owned) => owned.close()));
  });

  describe('row 1: tokens are verified on the server; one changed character → 401', () => {
    // Cookie value: tag (12) . token (43) . signature (43).
    const positions: Array<[string, number]> = [
      ['the first character of the tag', 0],
      ['the last character of the tag', 11],
      ['the first character of the token', 13],
      ['a middle character of the token', 35],
      ['the last character of the token', 55],
      ['the first character of the signature', 57],
      ['a middle character of the signature', 80],
      ['the last character of the signature', 99],
    ];

    it.each(positions)('refuses a cookie with %s changed', async (_label, index) => {
      const app = await makeApp();
      const { cookie } = await login(app, 'alice');
      const value = cookieValue(cookie);
      expect(value).toHaveLength(100);
      const tampered = changeCharacter(value, index);
      expect(tampered).not.toBe(value);

      expect(await meStatus(app, `sid=${tampered}`)).toBe(401);
      expect((await http(app).get('/probe/guarded').set('Cookie', `sid=${tampered}`)).status).toBe(401);
      expect(await meStatus(app, cookie)).toBe(200);
    });

    it('refuses a real session token signed with another secret', async () => {
      const app = await makeApp();
      const { cookie } = await login(app, 'alice');
      const [tag, token] = cookieValue(cookie).split('.');
      const resigned = new SessionCookieCodec([OTHER_SECRET]).encode({ tag, token });
      expect(resigned).not.toBe(cookieValue(cookie));
      expect(await meStatus(app, `sid=${resigned}`)).toBe(401);
    });

    it('accepts a cookie signed with the old secret after rotation to [new, old], and signs new cookies with the new secret', async () => {
      const keyPrefix = uniqueKeyPrefix('rotation');
      let shared: SessionModuleOptions['store'] = storeOption(store, redis.url, keyPrefix);
      if (store === 'memory') {
        const memory = new MemorySessionStore();
        ownedStores.push(memory);
        shared = memory;
      }
      const before = await makeApp({ secret: OLD_SECRET, store: shared });
      const after = await makeApp({ secret: [NEW_SECRET, OLD_SECRET], store: shared });

      const issuedBefore = await login(before, 'alice');
      const [oldTag, oldToken, oldSignature] = cookieValue(issuedBefore.cookie).split('.');
      expect(oldSignature).toBe(sign(OLD_SECRET, `${oldTag}.${oldToken}`));
      expect(await meStatus(after, issuedBefore.cookie)).toBe(200);

      const issuedAfter = await login(after, 'alice');
      const [tag, token, signature] = cookieValue(issuedAfter.cookie).split('.');
      expect(signature).toBe(sign(NEW_SECRET, `${tag}.${token}`));
      expect(await meStatus(after, issuedAfter.cookie)).toBe(200);
      // The app that only knows the old secret cannot verify the new signature.
      expect(await meStatus(before, issuedAfter.cookie)).toBe(401);
    });
  });

  describe('row 2: session IDs come from the CSPRNG, 256 bits, unique', () => {
    it('gives 50 logins 50 distinct tokens of 43 base64url characters (32 bytes)', async () => {
      const app = await makeApp();
      const tokens: string[] = [];
      for (let batch = 0; batch < 5; batch++) {
        const logins = await Promise.all(Array.from({ length: 10 }, () => login(app, 'alice')));
        for (const { cookie } of logins) {
          const parts = cookieValue(cookie).split('.');
          expect(parts).toHaveLength(3);
          tokens.push(parts[1]);
        }
      }
      expect(new Set(tokens).size).toBe(50);
      for (const token of tokens) {
        expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(Buffer.from(token, 'base64url')).toHaveLength(32);
      }
    });
  });

  describe('row 3: login issues a new session ID and kills the pre-login one', () => {
    it('leaves a pre-login (planted) cookie unauthenticated and unable to read the session data after login', async () => {
      const app = await makeApp();
      const anonymous = await http(app).put('/probe/anonymous/planted').send({ value: 'attacker-knows-this-cookie' });
      expect(anonymous.status).toBe(200);
      const planted = sessionCookieFrom(anonymous);

      const { cookie } = await login(app, 'alice', { cookie: planted });
      expect(cookieValue(cookie)).not.toBe(cookieValue(planted));
      expect(cookieValue(cookie).split('.')[1]).not.toBe(cookieValue(planted).split('.')[1]);

      expect((await http(app).get('/probe/guarded').set('Cookie', planted)).status).toBe(401);
      expect((await http(app).get('/probe/data').set('Cookie', planted)).status).toBe(401);
      expect(await meStatus(app, planted)).toBe(401);
      // The anonymous route echoes the session's data: through the dead cookie it is a fresh, empty session.
      const probe = await http(app).put('/probe/anonymous/other').set('Cookie', planted).send({ value: 1 });
      expect(probe.status).toBe(200);
      expect(probe.body).toEqual({ other: 1 });
      expect(sessionCookieFrom(probe)).not.toBe(planted);

      const data = await http(app).get('/probe/data').set('Cookie', cookie);
      expect(data.body).toEqual({ planted: 'attacker-knows-this-cookie' });
    });
  });

  describe('row 6: logout ends the session; replay → 401', () => {
    it('refuses the old cookie after POST /auth/logout', async () => {
      const app = await makeApp();
      const { cookie } = await login(app, 'alice');
      await http(app).put('/probe/data/x').set('Cookie', cookie).send({ value: 1 }).expect(200);
      expect((await http(app).post('/auth/logout').set('Cookie', cookie)).status).toBe(204);

      expect(await meStatus(app, cookie)).toBe(401);
      expect((await http(app).get('/probe/data').set('Cookie', cookie)).status).toBe(401);
      const reused = await http(app).put('/probe/anonymous/y').set('Cookie', cookie).send({ value: 2 });
      expect(reused.body).toEqual({ y: 2 });
    });

    const variants: Array<[string, Partial<SessionModuleOptions>, Record<string, string>, string]> = [
      ['a plain-HTTP cookie', {}, {}, 'sid'],
      ['a __Host- cookie over HTTPS', { cookie: { secure: 'auto' } }, HTTPS, '__Host-sid'],
      ['a __Secure- cookie with a domain', { cookie: { secure: true, domain: 'example.com' } }, {}, '__Secure-sid'],
    ];

    it.each(variants)('clears %s with the same name, path and attributes it was set with', async (_label, session, headers, name) => {
      const app = await makeApp(session, { trustProxy: true });
      const { response, cookie } = await login(app, 'alice', { headers, cookieName: name });
      const issued = sessionSetCookie(response, name);

      const logout = await http(app).post('/auth/logout').set('Cookie', cookie).set(headers);
      expect(logout.status).toBe(204);
      const cleared = sessionSetCookie(logout, name);
      expect(cleared.value).toBe('');
      expect(cleared.attributes.get('max-age')).toBe('0');
      const expires = cleared.attributes.get('expires');
      expect(typeof expires).toBe('string');
      expect(Date.parse(expires as string)).toBeLessThan(Date.now());
      for (const attribute of ['path', 'domain', 'httponly', 'secure', 'samesite']) {
        expect([attribute, cleared.attributes.get(attribute)]).toEqual([attribute, issued.attributes.get(attribute)]);
      }
      expect(cleared.attributes.get('path')).toBe('/');
      expect(cleared.attributes.get('httponly')).toBe(true);
      expect(await meStatus(app, cookie, headers)).toBe(401);
    });
  });

  describe('row 10: an ID the server did not issue is never accepted or stored', () => {
    async function storedSessions(app: INestApplication, keyPrefix: string): Promise<number> {
      if (store === 'memory') return (app.get(SessionStore) as MemorySessionStore).size;
      return (await redisClient.keys(`${keyPrefix}*`)).length;
    }

    it('refuses a well-formed, correctly signed cookie for a token it never issued, and stores nothing for it', async () => {
      const keyPrefix = uniqueKeyPrefix('strict');
      const app = await makeApp({}, { keyPrefix });
      await login(app, 'root');
      const keysBefore = await storedSessions(app, keyPrefix);
      const dbSizeBefore = await redisClient.dbsize();
      expect(keysBefore).toBeGreaterThan(0);

      const token = newSessionToken(randomSlotTag());
      const forged = `sid=${new SessionCookieCodec([TEST_SECRET]).encode(token)}`;
      expect((await http(app).get('/probe/guarded').set('Cookie', forged)).status).toBe(401);
      expect(await meStatus(app, forged)).toBe(401);
      expect((await http(app).get('/probe/data').set('Cookie', forged)).status).toBe(401);
      expect((await http(app).put('/probe/data/k').set('Cookie', forged).send({ value: 1 })).status).toBe(401);

      expect(await storedSessions(app, keyPrefix)).toBe(keysBefore);
      if (store === 'redis') expect(await redisClient.dbsize()).toBe(dbSizeBefore);

      // Storing data through the unknown ID starts a session under a fresh ID, never the presented one.
      const anonymous = await http(app).put('/probe/anonymous/k').set('Cookie', forged).send({ value: 1 });
      expect(anonymous.status).toBe(200);
      expect(sessionCookieFrom(anonymous)).not.toBe(forged);
      const sessionStore = app.get(SessionStore);
      const policy = { now: Date.now(), idleTimeoutMs: 60_000, touchIntervalMs: 60_000 };
      expect(await sessionStore.read(refOf(token), policy)).toBeNull();
      expect(await storedSessions(app, keyPrefix)).toBe(keysBefore + 1);
      expect(await meStatus(app, forged)).toBe(401);
    });
  });

  describe('row 18: cookie attributes', () => {
    it('sets a generic, HttpOnly, SameSite=Lax browser-session cookie without Expires or Max-Age by default, under 4096 bytes', async () => {
      const app = await makeApp();
      const { response } = await login(app, 'alice');
      const cookie = sessionSetCookie(response, 'sid');
      expect(cookie.attributes.get('httponly')).toBe(true);
      expect(cookie.attributes.get('samesite')).toBe('Lax');
      expect(cookie.attributes.get('path')).toBe('/');
      expect(cookie.attributes.has('expires')).toBe(false);
      expect(cookie.attributes.has('max-age')).toBe(false);
      expect(cookie.attributes.has('domain')).toBe(false);
      expect(cookie.attributes.has('secure')).toBe(false);
      expect(Buffer.byteLength(cookie.raw)).toBeLessThanOrEqual(4096);
      expect(Buffer.byteLength(cookie.value)).toBeLessThanOrEqual(4096);
    });

    it('adds Max-Age equal to the absolute timeout when cookie.persistent is true', async () => {
      const app = await makeApp({ cookie: { persistent: true }, absoluteTimeout: '2h', idleTimeout: '30m' });
      const { response } = await login(app, 'alice');
      const cookie = sessionSetCookie(response, 'sid');
      expect(cookie.attributes.get('max-age')).toBe(String(2 * 60 * 60));
      expect(cookie.attributes.get('httponly')).toBe(true);
    });

    it('names the cookie __Host-sid, Secure, Path=/ and without Domain over HTTPS behind a trusted proxy, and uses it', async () => {
      const app = await makeApp({ cookie: { secure: 'auto' } }, { trustProxy: true });
      const { response, cookie } = await login(app, 'alice', { headers: HTTPS, cookieName: '__Host-sid' });
      const issued = sessionSetCookie(response, '__Host-sid');
      expect(issued.attributes.get('secure')).toBe(true);
      expect(issued.attributes.get('path')).toBe('/');
      expect(issued.attributes.has('domain')).toBe(false);
      expect(issued.attributes.get('httponly')).toBe(true);
      expect(issued.attributes.get('samesite')).toBe('Lax');
      expect(setCookies(response).some((raw) => raw.startsWith('sid='))).toBe(false);
      expect(await meStatus(app, cookie, HTTPS)).toBe(200);
      // Over HTTPS a cookie without the prefix (settable by a plain-HTTP attacker) is not the session cookie.
      expect(await meStatus(app, `sid=${cookieValue(cookie)}`, HTTPS)).toBe(401);
    });

    it('names the cookie sid without Secure over plain HTTP when cookie.secure is auto', async () => {
      const app = await makeApp({ cookie: { secure: 'auto' } }, { trustProxy: true });
      const { response, cookie } = await login(app, 'alice');
      const issued = sessionSetCookie(response, 'sid');
      expect(issued.attributes.has('secure')).toBe(false);
      expect(await meStatus(app, cookie)).toBe(200);
    });

    it('ignores X-Forwarded-Proto when the proxy is not trusted', async () => {
      const app = await makeApp({ cookie: { secure: 'auto' } }, { trustProxy: false });
      const { response } = await login(app, 'alice', { headers: HTTPS });
      const issued = sessionSetCookie(response, 'sid');
      expect(issued.attributes.has('secure')).toBe(false);
    });

    it('names the cookie __Secure-sid with the Domain when cookie.secure is true and a domain is set', async () => {
      const app = await makeApp({ cookie: { secure: true, domain: 'example.com' } });
      const { response, cookie } = await login(app, 'alice', { cookieName: '__Secure-sid' });
      const issued = sessionSetCookie(response, '__Secure-sid');
      expect(issued.attributes.get('secure')).toBe(true);
      expect(issued.attributes.get('domain')).toBe('example.com');
      expect(issued.attributes.get('httponly')).toBe(true);
      expect(await meStatus(app, cookie)).toBe(200);
    });
  });

  describe('row 19: more than one session cookie → 401', () => {
    it('refuses a request carrying two valid session cookies', async () => {
      const app = await makeApp();
      const first = await login(app, 'alice');
      const second = await login(app, 'root');
      expect(await meStatus(app, first.cookie)).toBe(200);
      expect((await http(app).get('/probe/guarded').set('Cookie', `${first.cookie}; ${second.cookie}`)).status).toBe(401);
      expect((await http(app).get('/probe/guarded').set('Cookie', `${second.cookie}; ${first.cookie}`)).status).toBe(401);
      expect((await http(app).get('/probe/guarded').set('Cookie', `${first.cookie}; ${first.cookie}`)).status).toBe(401);
    });

    it('refuses a valid session cookie accompanied by a garbage one, in either order', async () => {
      const app = await makeApp();
      const { cookie } = await login(app, 'alice');
      expect((await http(app).get('/probe/guarded').set('Cookie', `${cookie}; sid=garbage`)).status).toBe(401);
      expect((await http(app).get('/probe/guarded').set('Cookie', `sid=garbage; ${cookie}`)).status).toBe(401);
      expect((await http(app).get('/probe/guarded').set('Cookie', `other=1; ${cookie}; theme=dark`)).status).toBe(200);
    });
  });

  describe('row 20: tokens are never read from the URL', () => {
    it('refuses the cookie value given as a query parameter', async () => {
      const app = await makeApp();
      const { cookie } = await login(app, 'alice');
      const value = encodeURIComponent(cookieValue(cookie));
      expect((await http(app).get(`/probe/guarded?sid=${value}`)).status).toBe(401);
      expect((await http(app).get(`/auth/me?sid=${value}`)).status).toBe(401);
      expect((await http(app).get(`/probe/data?sid=${value}&__Host-sid=${value}`)).status).toBe(401);
    });

    it('refuses the cookie value given in the path', async () => {
      const app = await makeApp();
      const { cookie } = await login(app, 'alice');
      const value = encodeURIComponent(cookieValue(cookie));
      for (const path of [`/probe/guarded/${value}`, `/auth/me/${value}`, `/probe/guarded;sid=${value}`, `/auth/me;jsessionid=${value}`]) {
        const response = await http(app).get(path);
        expect([path, [401, 404].includes(response.status)]).toEqual([path, true]);
        expect(JSON.stringify(response.body)).not.toContain('u-alice');
      }
    });
  });

  describe('row 21: responses that issue a cookie are not cacheable', () => {
    function expectNoStore(response: { headers: Record<string, unknown> }): void {
      expect(String(response.headers['cache-control'])).toMatch(/\bno-store\b/);
    }

    it('sends Cache-Control: no-store with login, rotation, password change, anonymous session creation and logout', async () => {
      const app = await makeApp();
      const loggedIn = await login(app, 'alice');
      expectNoStore(loggedIn.response);

      const promoted = await http(app).post('/probe/promote').set('Cookie', loggedIn.cookie);
      expect(sessionCookieFrom(promoted)).toBeTruthy();
      expectNoStore(promoted);

      const changed = await http(app).post('/probe/password-changed').set('Cookie', sessionCookieFrom(promoted));
      expect(sessionCookieFrom(changed)).toBeTruthy();
      expectNoStore(changed);

      const anonymous = await http(app).put('/probe/anonymous/k').send({ value: 1 });
      expect(sessionCookieFrom(anonymous)).toBeTruthy();
      expectNoStore(anonymous);

      const logout = await http(app).post('/auth/logout').set('Cookie', sessionCookieFrom(changed));
      expect(setCookies(logout)).toHaveLength(1);
      expectNoStore(logout);
    });
  });

  describe('bad input never gets a 500', () => {
    const garbage: Array<[string, string]> = [
      ['an 8 KB value', `sid=${'A'.repeat(8 * 1024)}`],
      ['a percent-encoded NUL', 'sid=%00'],
      ['percent-encoded NULs in a well-shaped value', `sid=${'%00'.repeat(12)}.${'A'.repeat(43)}.${'A'.repeat(43)}`],
      ['percent-encoded unicode', 'sid=%E2%98%83.%F0%9F%8D%AA.%C3%A9'],
      ['a broken percent escape', 'sid=%zz%'],
      ['Latin-1 bytes', 'sid=caf\u00e9.\u00ff\u00fe.x'],
      ['only dots', 'sid=...'],
      ['an empty value', 'sid='],
      ['a.b.c', 'sid=a.b.c'],
      ['a quoted value', 'sid="abc"'],
      ['a name without a value', 'sid'],
      ['a doubled equals sign', 'sid=='],
      ['only separators', ';;;'],
      ['four segments', `sid=${'A'.repeat(12)}.${'A'.repeat(43)}.${'A'.repeat(43)}.x`],
      ['right lengths but characters outside base64url', `sid=${'!'.repeat(12)}.${'+'.repeat(43)}.${'/'.repeat(43)}`],
    ];

    it.each(garbage)('answers a session cookie with %s with 401 on guarded routes and 200 on public ones', async (_label, header) => {
      const app = await makeApp();
      expect((await http(app).get('/probe/guarded').set('Cookie', header)).status).toBe(401);
      expect((await http(app).get('/auth/me').set('Cookie', header)).status).toBe(401);
      expect((await http(app).get('/auth/sessions').set('Cookie', header)).status).toBe(401);
      expect((await http(app).get('/probe/public').set('Cookie', header)).status).toBe(200);
      expect((await http(app).post('/auth/logout').set('Cookie', header)).status).toBe(204);
      const anonymous = await http(app).put('/probe/anonymous/k').set('Cookie', header).send({ value: 1 });
      expect(anonymous.status).toBe(200);
      expect(anonymous.body).toEqual({ k: 1 });
    });
  });
});
