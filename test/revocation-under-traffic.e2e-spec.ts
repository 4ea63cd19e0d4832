/**
 * Issue 10, part 1: `revokeOtherSessions` (password changed) and `revokeAllSessions` (account
 * disabled) hold under concurrent traffic. One user logs in 8 times in hybrid mode (each login a
 * cookie session and a token family), every one of those sessions keeps sending GET requests
 * with its cookie and with its bearer token, and one call revokes them. Every request that
 * STARTED after the call returned must be a 401, the kept session (revoke-others) goes on
 * working, and every refresh token of a revoked family is dead.
 */
import { performance } from 'node:perf_hooks';
import type { INestApplication } from '@nestjs/common';
import { http, sleep, storeOption, STORES, type StoreKind } from './support/http-helpers.js';
import { createJwtApp, refreshStatus, tokenLogin, withBearer, type TokenLogin } from './support/jwt-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, sessionCookieFrom, TEST_USERS, type AdapterName } from './support/test-app.js';

const SESSIONS = 8;
/** Traffic before the call, and after it returned, in milliseconds. */
const BEFORE_MS = 300;
const AFTER_MS = 300;
/** Requests each loop sends, at least, that start after the call returned. */
const MIN_AFTER = 2;

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

interface Observation {
  session: number;
  credential: 'cookie' | 'bearer';
  startedAt: number;
  status: number;
}

interface Family {
  login: TokenLogin;
  cookie: string;
}

const MATRIX: Array<[AdapterName, StoreKind]> = ADAPTERS.flatMap((adapter) => STORES.map((store): [AdapterName, StoreKind] => [adapter, store]));

describe.each(MATRIX)('revocation under traffic over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication;

  beforeEach(async () => {
    app = await createJwtApp({ adapter, mode: 'hybrid', store: storeOption(store, redis?.url) });
    // One listening server, so that many concurrent supertest requests share it.
    await app.listen(0, '127.0.0.1');
  });
  afterEach(async () => {
    await app?.close();
  });

  async function loginMany(count: number): Promise<Family[]> {
    const families: Family[] = [];
    for (let i = 0; i < count; i += 1) {
      const login = await tokenLogin(app, 'alice');
      families.push({ login, cookie: sessionCookieFrom(login.response) });
    }
    return families;
  }

  /**
   * Steady traffic from every family, one cookie loop and one bearer loop each, until `stop()`
   * and until every loop has sent at least MIN_AFTER requests that started after the call
   * returned (so a slow machine cannot leave the "after" side empty). Each request's start time
   * is taken just before it is sent.
   */
  function startTraffic(families: Family[]) {
    const observations: Observation[] = [];
    let stopping = false;
    let returnedAt = Number.POSITIVE_INFINITY;
    const loop = async (session: number, credential: 'cookie' | 'bearer') => {
      const family = families[session];
      let after = 0;
      while (!stopping || after < MIN_AFTER) {
        const startedAt = performance.now();
        const pending =
          credential === 'cookie'
            ? http(app).get('/probe/any').set('Cookie', family.cookie)
            : withBearer(app, '/probe/any', family.login.accessToken);
        const { status } = await pending;
        observations.push({ session, credential, startedAt, status });
        if (startedAt >= returnedAt) after += 1;
      }
    };
    const loops = families.flatMap((_, session) => [loop(session, 'cookie'), loop(session, 'bearer')]);
    return {
      observations,
      /** The call returned at `at`: from now on every loop counts its requests. */
      returned(at: number) {
        returnedAt = at;
      },
      async stop() {
        stopping = true;
        await Promise.all(loops);
      },
    };
  }

  /**
   * The count the call returns: every other session, also on Redis under traffic, where a
   * concurrent read deletes a revoked session at once (the store counts at the epoch swap).
   */
  function expectRevokedCount(revoked: unknown, label: string) {
    console.log(`${label} (${adapter}, ${store}) returned revoked: ${String(revoked)} of ${SESSIONS}`);
    expect(typeof revoked).toBe('number');
    expect(revoked).toBe(SESSIONS);
  }

  function judge(observations: Observation[], returnedAt: number, label: string) {
    const before = observations.filter((o) => o.startedAt < returnedAt);
    const after = observations.filter((o) => o.startedAt >= returnedAt);
    const count = (list: Observation[], credential: string) => list.filter((o) => o.credential === credential).length;
    console.log(
      `${label} (${adapter}, ${store}): ${before.length} requests started before the call returned ` +
        `(${before.filter((o) => o.status === 200).length} answered 200), ${after.length} after ` +
        `(cookie ${count(after, 'cookie')}, bearer ${count(after, 'bearer')})`,
    );
    // Enough traffic on both sides of the call for the proof to mean something.
    expect(before.filter((o) => o.status === 200).length).toBeGreaterThan(SESSIONS);
    expect(count(after, 'cookie')).toBeGreaterThanOrEqual(SESSIONS * MIN_AFTER);
    expect(count(after, 'bearer')).toBeGreaterThanOrEqual(SESSIONS * MIN_AFTER);
    // Before: a live session or a revoked one, nothing else (no 5xx under the race).
    for (const o of before) expect([200, 401]).toContain(o.status);
    const succeededAfter = after.filter((o) => o.status !== 401);
    expect(succeededAfter).toEqual([]);
  }

  it('revokeOtherSessions: no request of the other sessions succeeds after the call returned; the kept session works', async () => {
    const [keeper, ...others] = await loginMany(SESSIONS + 1);
    const traffic = startTraffic(others);
    await sleep(BEFORE_MS);

    const changed = await http(app).post('/probe/password-changed').set('Cookie', keeper.cookie);
    const returnedAt = performance.now();
    traffic.returned(returnedAt);
    await sleep(AFTER_MS);
    await traffic.stop();

    expect(changed.status).toBe(201);
    expectRevokedCount(changed.body.revoked, 'revokeOtherSessions');
    judge(traffic.observations, returnedAt, 'revokeOtherSessions');

    for (const family of others) expect(await refreshStatus(app, family.login.refreshToken)).toBe(401);
    // The kept session was rotated: its new cookie and new tokens work, the old ones are dead.
    const keptCookie = sessionCookieFrom(changed);
    expect((await http(app).get('/probe/any').set('Cookie', keptCookie)).status).toBe(200);
    expect((await withBearer(app, '/probe/any', changed.body.accessToken as string)).status).toBe(200);
    expect((await http(app).get('/probe/any').set('Cookie', keeper.cookie)).status).toBe(401);
    expect(await refreshStatus(app, keeper.login.refreshToken)).toBe(401);
    expect(await refreshStatus(app, changed.body.refreshToken as string)).toBe(200);
  });

  it('revokeAllSessions: no request of any session succeeds after the call returned, and every refresh token is dead', async () => {
    const families = await loginMany(SESSIONS);
    const root = await tokenLogin(app, 'root');
    const traffic = startTraffic(families);
    await sleep(BEFORE_MS);

    const disabled = await http(app).post(`/probe/disable/${TEST_USERS.alice.user.id}`);
    const returnedAt = performance.now();
    traffic.returned(returnedAt);
    await sleep(AFTER_MS);
    await traffic.stop();

    expect(disabled.status).toBe(201);
    expectRevokedCount(disabled.body.revoked, 'revokeAllSessions');
    judge(traffic.observations, returnedAt, 'revokeAllSessions');

    for (const family of families) expect(await refreshStatus(app, family.login.refreshToken)).toBe(401);
    // Another user is untouched, and alice can log in again.
    expect((await withBearer(app, '/probe/any', root.accessToken)).status).toBe(200);
    expect((await http(app).get('/probe/any').set('Cookie', sessionCookieFrom((await tokenLogin(app, 'alice')).response))).status).toBe(200);
  });
});
