/**
 * SECURITY.md rows 4 (server-side idle timeout) and 5 (absolute lifetime whatever the activity),
 * with short timeouts so the suite stays fast: idle 1 s, absolute 3 s, touch interval 100 ms.
 * In hybrid mode the cookie keeps its own idle timeout although its session's key lives as long
 * as the refresh token.
 */
import type { INestApplication } from '@nestjs/common';
import { http, login, MATRIX, meStatus, sleep, storeOption, type StoreKind } from './support/http-helpers.js';
import { bearerStatus, createJwtApp, refreshWith, tokenLogin } from './support/jwt-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { createTestApp, sessionCookieFrom, type AdapterName } from './support/test-app.js';

const IDLE_MS = 1_000;
const ABSOLUTE_MS = 3_000;
const POLL_EVERY_MS = 300;
/** Slack for the gap between the client's clock readings and the server's (and Redis's) expiry. */
const SLACK_MS = 50;

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

interface Observation {
  sentAt: number;
  receivedAt: number;
  status: number;
  body: unknown;
}

describe.each(MATRIX)('session timeouts over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication;

  beforeEach(async () => {
    app = await createTestApp({
      adapter,
      session: { store: storeOption(store, redis.url), idleTimeout: '1s', absoluteTimeout: '3s', touchInterval: '100ms' },
    });
  });

  afterEach(async () => {
    await app?.close();
  });

  async function observe(path: string, cookie: string): Promise<Observation> {
    const sentAt = Date.now();
    const response = await http(app).get(path).set('Cookie', cookie);
    return { sentAt, receivedAt: Date.now(), status: response.status, body: response.body };
  }

  /** Logs alice in; the absolute deadline lies between loginStartedAt and loginEndedAt plus ABSOLUTE_MS. */
  async function timedLogin(): Promise<{ cookie: string; loginStartedAt: number; loginEndedAt: number }> {
    const loginStartedAt = Date.now();
    const { cookie } = await login(app, 'alice');
    return { cookie, loginStartedAt, loginEndedAt: Date.now() };
  }

  /** Requests `path` every POLL_EVERY_MS until one request is sent at or after `stopAt`. */
  async function pollUntil(path: string, cookie: string, stopAt: number): Promise<Observation[]> {
    const observations: Observation[] = [];
    for (;;) {
      const observation = await observe(path, cookie);
      observations.push(observation);
      if (observation.sentAt >= stopAt) return observations;
      await sleep(Math.max(0, observation.sentAt + POLL_EVERY_MS - Date.now()));
    }
  }

  it('ends a session left alone for longer than the idle timeout (row 4)', async () => {
    const { cookie, loginEndedAt } = await timedLogin();
    expect((await observe('/auth/me', cookie)).status).toBe(200);

    await sleep(loginEndedAt + IDLE_MS + 300 - Date.now());
    const late = await observe('/auth/me', cookie);
    expect(late.status).toBe(401);
    expect((await observe('/probe/guarded', cookie)).status).toBe(401);
  });

  it('keeps an active session alive past the idle timeout but ends it at the absolute deadline (rows 4 and 5)', async () => {
    const { cookie, loginStartedAt, loginEndedAt } = await timedLogin();
    const observations = await pollUntil('/auth/me', cookie, loginEndedAt + ABSOLUTE_MS + 2 * SLACK_MS);

    const surelyAlive = observations.filter((o) => o.receivedAt < loginStartedAt + ABSOLUTE_MS - SLACK_MS);
    const surelyDead = observations.filter((o) => o.sentAt > loginEndedAt + ABSOLUTE_MS + SLACK_MS);
    expect(surelyAlive.map((o) => o.status)).toEqual(surelyAlive.map(() => 200));
    // Activity carried it well past one idle timeout...
    expect(surelyAlive.some((o) => o.sentAt > loginEndedAt + 2 * IDLE_MS)).toBe(true);
    // ...but not past the absolute lifetime.
    expect(surelyDead.length).toBeGreaterThan(0);
    expect(surelyDead.map((o) => o.status)).toEqual(surelyDead.map(() => 401));
  });

  it('never lists an expiresAt after the absolute deadline, and lists exactly the deadline once the idle expiry would pass it (row 5)', async () => {
    const { cookie, loginStartedAt, loginEndedAt } = await timedLogin();
    // Past ABSOLUTE_MS - IDLE_MS the sliding idle expiry would reach beyond the deadline.
    const observations = await pollUntil('/auth/sessions', cookie, loginEndedAt + ABSOLUTE_MS - IDLE_MS + 400);

    let deadline: number | undefined;
    for (const observation of observations) {
      expect(observation.status).toBe(200);
      const [session] = observation.body as Array<{ createdAt: string; lastSeenAt: string; expiresAt: string }>;
      const createdAt = Date.parse(session.createdAt);
      const expiresAt = Date.parse(session.expiresAt);
      deadline ??= createdAt + ABSOLUTE_MS;
      expect(createdAt + ABSOLUTE_MS).toBe(deadline);
      expect(createdAt).toBeGreaterThanOrEqual(loginStartedAt);
      expect(createdAt).toBeLessThanOrEqual(loginEndedAt);
      expect(expiresAt).toBeLessThanOrEqual(deadline);
      expect(expiresAt).toBeGreaterThan(observation.receivedAt);
      expect(expiresAt).toBeLessThanOrEqual(Date.parse(session.lastSeenAt) + IDLE_MS);
    }
    const last = observations[observations.length - 1];
    const [lastSession] = last.body as Array<{ expiresAt: string }>;
    expect(Date.parse(lastSession.expiresAt)).toBe(deadline);
  });
});

describe.each(MATRIX)('hybrid mode idle rules over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication;

  beforeEach(async () => {
    app = await createJwtApp({
      adapter,
      mode: 'hybrid',
      store: storeOption(store, redis.url),
      // The refresh token outlives the cookie's idle timeout many times over, as with the defaults (30m / 7d).
      jwt: { accessTokenTtl: '30s', refreshTokenTtl: '30s' },
      session: { idleTimeout: '1s', absoluteTimeout: '1m', touchInterval: '100ms' },
    });
  });

  afterEach(async () => {
    await app?.close();
  });

  it('ends a cookie left alone past the idle timeout although its refresh token lives on (row 4)', async () => {
    const { response, accessToken } = await tokenLogin(app);
    const loginEndedAt = Date.now();
    const cookie = sessionCookieFrom(response);
    expect(await meStatus(app, cookie)).toBe(200);

    await sleep(loginEndedAt + IDLE_MS + 500 - Date.now());

    expect(await meStatus(app, cookie)).toBe(401);
    expect((await http(app).get('/probe/guarded').set('Cookie', cookie)).status).toBe(401);
    // The tokens follow the refresh rules, not the cookie's idle timeout.
    expect(await bearerStatus(app, accessToken)).toBe(200);
  });

  it('never revives a cookie that has idled out, whatever the tokens do afterwards (row 4)', async () => {
    const { response, accessToken, refreshToken } = await tokenLogin(app);
    const loginEndedAt = Date.now();
    const cookie = sessionCookieFrom(response);

    await sleep(loginEndedAt + IDLE_MS + 500 - Date.now());
    expect(await meStatus(app, cookie)).toBe(401);

    expect(await bearerStatus(app, accessToken)).toBe(200);
    expect(await meStatus(app, cookie)).toBe(401);
    expect((await refreshWith(app, refreshToken)).status).toBe(200);
    expect(await meStatus(app, cookie)).toBe(401);
  });

  it('counts a bearer request or a refresh as activity for the cookie, as the README says', async () => {
    const { response, accessToken, refreshToken } = await tokenLogin(app);
    const cookie = sessionCookieFrom(response);

    await sleep(IDLE_MS / 2 + 100);
    expect(await bearerStatus(app, accessToken)).toBe(200);
    await sleep(IDLE_MS / 2 + 100);
    expect((await refreshWith(app, refreshToken)).status).toBe(200);
    await sleep(IDLE_MS / 2 + 100);

    // Well past one idle timeout after login, but never idle for one.
    expect(await meStatus(app, cookie)).toBe(200);
  });
});
