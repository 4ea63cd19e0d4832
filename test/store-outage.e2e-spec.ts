/**
 * What an app does when its Redis goes away and comes back: 503 with Retry-After (never 500,
 * never a hang) for anything that needs a session, public routes unaffected, and recovery
 * without a restart once Redis is back.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, createTestApp, sessionCookieFrom } from './support/test-app.js';

const OPERATION_TIMEOUT_MS = 500;
const CREDENTIALS = { username: 'alice', password: 'alice-password' };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The real Node process. Jest hands test code a stand-in `process` whose listeners never hear
 * about unhandled rejections; the host realm's Function constructor reaches the real one.
 */
const hostProcess = (Buffer as unknown as { constructor: FunctionConstructor }).constructor('return process')() as NodeJS.Process;

describe.each(ADAPTERS)('when the Redis session store goes down and comes back (%s)', (adapter) => {
  let server: RedisServerHandle;
  let app: INestApplication;
  let cookie: string;
  const processFaults: Array<{ event: string; reason: unknown }> = [];
  const onUnhandledRejection = (reason: unknown) => processFaults.push({ event: 'unhandledRejection', reason });
  const onUncaughtException = (reason: unknown) => processFaults.push({ event: 'uncaughtException', reason });

  const http = () => request(app.getHttpServer());

  async function timed(send: () => PromiseLike<request.Response>): Promise<{ res: request.Response; elapsed: number }> {
    const started = Date.now();
    const res = await send();
    return { res, elapsed: Date.now() - started };
  }

  beforeAll(async () => {
    hostProcess.on('unhandledRejection', onUnhandledRejection);
    hostProcess.on('uncaughtException', onUncaughtException);
    server = await startRedisServer();
    app = await createTestApp({
      adapter,
      session: { store: { type: 'redis', url: server.url, operationTimeoutMs: OPERATION_TIMEOUT_MS } },
    });
  });

  afterAll(async () => {
    try {
      await app?.close();
      await server?.stop();
    } finally {
      hostProcess.off('unhandledRejection', onUnhandledRejection);
      hostProcess.off('uncaughtException', onUncaughtException);
    }
  });

  it('logs in and passes the guard while Redis is up', async () => {
    const login = await http().post('/auth/login').send(CREDENTIALS);
    expect(login.status).toBe(200);
    cookie = sessionCookieFrom(login);

    const guarded = await http().get('/probe/guarded').set('Cookie', cookie);
    expect(guarded.status).toBe(200);
    expect(guarded.body.user.id).toBe('u-alice');
  });

  it('answers guarded requests with 503 and Retry-After within 3 s while Redis is down, every time', async () => {
    await server.stop();

    // The first request meets a dropped connection, later ones a reconnecting client: all the same answer.
    for (let attempt = 0; attempt < 3; attempt++) {
      const { res, elapsed } = await timed(() => http().get('/probe/guarded').set('Cookie', cookie));
      expect({ attempt, status: res.status }).toEqual({ attempt, status: 503 });
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(elapsed).toBeLessThan(3_000);
    }
  });

  it('answers several concurrent guarded requests with 503 while Redis is down, none hanging', async () => {
    const started = Date.now();
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => http().get('/probe/guarded').set('Cookie', cookie)),
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(responses.map((res) => res.status)).toEqual([503, 503, 503, 503, 503]);
  });

  it('still answers public routes with 200 while Redis is down', async () => {
    const { res, elapsed } = await timed(() => http().get('/probe/public'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
    expect(elapsed).toBeLessThan(3_000);
  });

  it('answers a login with 503 and Retry-After, not 500, while Redis is down', async () => {
    const { res, elapsed } = await timed(() => http().post('/auth/login').send(CREDENTIALS));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(elapsed).toBeLessThan(3_000);
  });

  it('recovers by itself once Redis is back: a new login works and its cookie passes the guard', async () => {
    await server.restart();

    // The restarted server has no data: log in again, polling until the app's client reconnects.
    const deadline = Date.now() + 10_000;
    let login: request.Response | undefined;
    while (Date.now() < deadline) {
      login = await http().post('/auth/login').send(CREDENTIALS);
      if (login.status === 200) break;
      expect(login.status).toBe(503);
      await sleep(250);
    }
    expect(login?.status).toBe(200);
    const fresh = sessionCookieFrom(login!);

    const guarded = await http().get('/probe/guarded').set('Cookie', fresh);
    expect(guarded.status).toBe(200);
    expect(guarded.body.user.id).toBe('u-alice');
    // The session from before the outage died with the server's data: 401, not 503 or 500.
    expect((await http().get('/probe/guarded').set('Cookie', cookie)).status).toBe(401);
  });

  it('went through the outage without an unhandled rejection or an uncaught exception', async () => {
    // Give late timers and dropped replies from the outage a moment to surface.
    await sleep(OPERATION_TIMEOUT_MS + 200);
    expect(processFaults).toEqual([]);
    expect((await http().get('/probe/public')).status).toBe(200);
  });
});
