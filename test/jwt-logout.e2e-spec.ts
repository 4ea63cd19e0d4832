/**
 * POST /auth/logout in jwt and hybrid mode over Express and Fastify with the memory and Redis
 * stores: a refresh token that is not the family's current one changes nothing, not even the
 * session's idle expiry; the current one ends the family; and a browser whose access token has
 * expired ends its family by logging out, with the refresh token in the body or in its cookie
 * (SECURITY row 6).
 */
import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { SessionStore } from '../src/index.js';
import type { SessionRef } from '../src/core/session-token.js';
import { BrowserCookies } from './support/browser-cookies.js';
import { http, MATRIX, meStatus, sessionSetCookie, sleep, storeOption, uniqueKeyPrefix, type StoreKind } from './support/http-helpers.js';
import { bearerStatus, createJwtApp, decodeJwt, refreshStatus, tokenLogin } from './support/jwt-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, type AdapterName } from './support/test-app.js';
import { KEY_DIGEST_LENGTH } from '../src/stores/redis/redis-keys.js';

let redis: RedisServerHandle;
let inspector: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  inspector = new Redis(redis.url);
});

afterAll(async () => {
  await inspector?.quit();
  await redis?.stop();
});

/** The session a token pair belongs to, from the `sid` claim any access token carries. */
function sidOf(accessToken: string): { sid: string; ref: SessionRef } {
  const sid = String(decodeJwt(accessToken).payload.sid);
  const [tag, digest] = sid.split('.');
  return { sid, ref: { tag, digest } };
}

/** A refresh token naming a real session, with a secret nobody issued. */
function forgedRefreshToken(sid: string): string {
  return `${sid}.${randomBytes(32).toString('base64url')}`;
}

describe.each(MATRIX)('logout by refresh token over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication;
  let keyPrefix: string;

  beforeEach(async () => {
    keyPrefix = uniqueKeyPrefix();
    // touchInterval 1 ms: any read of the session would slide it, so a slide cannot hide.
    app = await createJwtApp({ adapter, store: storeOption(store, redis.url, keyPrefix), session: { touchInterval: '1ms' } });
  });

  afterEach(async () => {
    await app?.close();
  });

  /** lastSeenAt as stored, read without sliding; with Redis also the key's PTTL, straight from the server. */
  async function observe(ref: SessionRef): Promise<{ lastSeenAt: number | undefined; pttl: number | null }> {
    if (store === 'redis') {
      const key = `${keyPrefix}{${ref.tag}}:s:${ref.digest.slice(0, KEY_DIGEST_LENGTH)}`;
      // No `s` field: not seen since its creation (0 after `c`, see redis-record.ts).
      const [[handle, lastSeen], pttl] = await Promise.all([inspector.hmget(key, 'h', 's'), inspector.pttl(key)]);
      return { lastSeenAt: handle === null ? undefined : Number(lastSeen ?? 0), pttl };
    }
    // A read that never touches (touchIntervalMs) and whose idle rule cannot fail within the test.
    const record = await app.get<SessionStore>(SessionStore).read(ref, { now: Date.now(), idleTimeoutMs: 60_000, touchIntervalMs: Number.MAX_SAFE_INTEGER });
    return { lastSeenAt: record?.lastSeenAt, pttl: null };
  }

  it("answers a forged refresh token naming a real sid with 204 and leaves that session's lastSeenAt and expiry alone; the session keeps working", async () => {
    const { accessToken, refreshToken } = await tokenLogin(app, 'alice');
    const { sid, ref } = sidOf(accessToken);
    const before = await observe(ref);
    expect(before.lastSeenAt).toEqual(expect.any(Number));
    await sleep(20);

    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await http(app).post('/auth/logout').send({ refreshToken: forgedRefreshToken(sid) })).status).toBe(204);
    }

    const after = await observe(ref);
    expect(after.lastSeenAt).toBe(before.lastSeenAt);
    if (store === 'redis') {
      expect(after.pttl).toBeGreaterThan(0);
      expect(after.pttl!).toBeLessThanOrEqual(before.pttl!);
    }
    expect(await bearerStatus(app, accessToken)).toBe(200);
    expect(await refreshStatus(app, refreshToken)).toBe(200);
  });

  it('ends the family with a refresh token it already consumed: whoever refreshed with it (a thief) is logged out too', async () => {
    const victim = await tokenLogin(app, 'alice');
    const { ref } = sidOf(victim.accessToken);
    const stolen = await http(app).post('/auth/refresh').send({ refreshToken: victim.refreshToken }).expect(200);

    expect((await http(app).post('/auth/logout').send({ refreshToken: victim.refreshToken })).status).toBe(204);

    expect(await observe(ref)).toEqual({ lastSeenAt: undefined, pttl: store === 'redis' ? -2 : null });
    expect(await refreshStatus(app, stolen.body.refreshToken)).toBe(401);
    expect(await bearerStatus(app, stolen.body.accessToken)).toBe(401);
  });

  it('ends the family with its current refresh token: access and refresh tokens refused, the session gone from the store', async () => {
    const { accessToken, refreshToken } = await tokenLogin(app, 'alice');
    const { ref } = sidOf(accessToken);

    expect((await http(app).post('/auth/logout').send({ refreshToken })).status).toBe(204);

    expect(await observe(ref)).toEqual({ lastSeenAt: undefined, pttl: store === 'redis' ? -2 : null });
    expect(await bearerStatus(app, accessToken)).toBe(401);
    expect(await refreshStatus(app, refreshToken)).toBe(401);
  });
});

describe.each(ADAPTERS)('logout in hybrid mode over %s', (adapter: AdapterName) => {
  it('ends the family its refresh token names even when an anonymous session cookie comes along (the login cookie idled out)', async () => {
    const app = await createJwtApp({ adapter, store: { type: 'memory' }, mode: 'hybrid' });
    try {
      const { refreshToken } = await tokenLogin(app, 'alice');
      const anonymous = sessionSetCookie(await http(app).put('/probe/anonymous/cart').send({ value: ['book'] }).expect(200));
      const cookie = `${anonymous.name}=${anonymous.value}`;

      await http(app).post('/auth/logout').set('Cookie', cookie).send({ refreshToken }).expect(204);

      expect(await refreshStatus(app, refreshToken)).toBe(401);
      expect(await meStatus(app, cookie)).toBe(401);
    } finally {
      await app.close();
    }
  });
});

type Transport = 'body' | 'cookie';
const LOGOUT_CASES = (['jwt', 'hybrid'] as const).flatMap((mode) =>
  (['body', 'cookie'] as Transport[]).flatMap((transport) =>
    MATRIX.map(([adapter, store]): [string, Transport, AdapterName, StoreKind] => [mode, transport, adapter, store]),
  ),
);

/** Timed (the access token must expire first), so the combinations run side by side. */
describe('logout after the access token expired, as a browser sends it (row 6)', () => {
  it.concurrent.each(LOGOUT_CASES)(
    'in %s mode with the refresh token in the %s, over %s with the %s store, ends the family: the refresh token then gets 401',
    async (mode, transport, adapter, store) => {
      const app = await createJwtApp({
        adapter,
        store: storeOption(store, redis.url),
        mode: mode as 'jwt' | 'hybrid',
        jwt: { accessTokenTtl: '1s', refreshTokenTransport: transport },
      });
      try {
        const browser = new BrowserCookies();
        const login = await tokenLogin(app, 'alice');
        browser.store(login.response, '/auth/login');
        // What a thief could have copied before the logout.
        const refreshToken = transport === 'body' ? login.refreshToken : browser.value('rt');
        const sessionCookie = mode === 'hybrid' ? `sid=${browser.value('sid')}` : undefined;

        // exp is in whole seconds: with a 1 s lifetime it has passed 1 s after issue at the latest.
        await sleep(1_100);
        expect(await bearerStatus(app, login.accessToken)).toBe(401);

        // The SPA still sends its expired access token; the browser adds the cookies whose path matches.
        let logout = http(app).post('/auth/logout').set('Authorization', `Bearer ${login.accessToken}`);
        const cookies = browser.header('/auth/logout');
        if (cookies !== '') logout = logout.set('Cookie', cookies);
        const answer = await (transport === 'body' ? logout.send({ refreshToken }) : logout);
        expect(answer.status).toBe(204);
        browser.store(answer, '/auth/logout');
        expect(browser.header('/auth/refresh')).toBe('');

        const replay =
          transport === 'body'
            ? http(app).post('/auth/refresh').send({ refreshToken })
            : http(app).post('/auth/refresh').set('Cookie', `rt=${refreshToken}`);
        expect((await replay).status).toBe(401);
        if (sessionCookie !== undefined) expect(await meStatus(app, sessionCookie)).toBe(401);
        // The mechanism: the browser did send the refresh cookie to the logout route.
        if (transport === 'cookie') expect(cookies).toContain(`rt=${refreshToken}`);
      } finally {
        await app.close();
      }
    },
  );
});
