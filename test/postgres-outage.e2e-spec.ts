/**
 * What an app on the PostgreSQL store does when its database goes away and comes back: 503 with
 * Retry-After within the bound (never 500, never a hang) for anything that needs a session,
 * public routes unaffected, and recovery without a restart once the database is back, with the
 * sessions from before the outage still there (they are rows, not memory).
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { startPostgresServer, uniqueTableName, type PostgresServerHandle } from './support/postgres-server.js';
import { ADAPTERS, createTestApp, sessionCookieFrom } from './support/test-app.js';

const OPERATION_TIMEOUT_MS = 500;
const BOUND_MS = 3_000;
const CREDENTIALS = { username: 'alice', password: 'alice-password' };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The real Node process (see store-outage.e2e-spec.ts): jest's stand-in never hears of unhandled rejections. */
const hostProcess = (Buffer as unknown as { constructor: FunctionConstructor }).constructor('return process')() as NodeJS.Process;

describe('when the PostgreSQL session store goes down and comes back', () => {
  let server: PostgresServerHandle;
  const apps = new Map<string, INestApplication>();
  const cookies = new Map<string, string>();
  const processFaults: Array<{ event: string; reason: unknown }> = [];
  const onUnhandledRejection = (reason: unknown) => processFaults.push({ event: 'unhandledRejection', reason });
  const onUncaughtException = (reason: unknown) => processFaults.push({ event: 'uncaughtException', reason });

  const http = (adapter: string) => request(apps.get(adapter)!.getHttpServer());

  beforeAll(async () => {
    hostProcess.on('unhandledRejection', onUnhandledRejection);
    hostProcess.on('uncaughtException', onUncaughtException);
    // Its own server whatever DATABASE_URL says: this suite stops it.
    server = await startPostgresServer({ private: true });
    for (const adapter of ADAPTERS) {
      const store = server.storeOptions({ tableName: uniqueTableName(), operationTimeoutMs: OPERATION_TIMEOUT_MS });
      apps.set(adapter, await createTestApp({ adapter, session: { store } }));
    }
  });

  afterAll(async () => {
    try {
      await Promise.all([...apps.values()].map((app) => app.close()));
      await server?.dispose();
    } finally {
      hostProcess.off('unhandledRejection', onUnhandledRejection);
      hostProcess.off('uncaughtException', onUncaughtException);
    }
  });

  it.each(ADAPTERS)('logs in and passes the guard while the database is up (%s)', async (adapter) => {
    const login = await http(adapter).post('/auth/login').send(CREDENTIALS);
    expect(login.status).toBe(200);
    cookies.set(adapter, sessionCookieFrom(login));
    expect((await http(adapter).get('/probe/guarded').set('Cookie', cookies.get(adapter)!)).status).toBe(200);
  });

  it.each(ADAPTERS)('answers guarded requests, logins and concurrent requests with 503 + Retry-After within the bound while it is down (%s)', async (adapter) => {
    if (adapter === ADAPTERS[0]) await server.stopServer();
    const started = Date.now();
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => http(adapter).get('/probe/guarded').set('Cookie', cookies.get(adapter)!)),
      http(adapter).post('/auth/login').send(CREDENTIALS),
    ]);
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
    expect(answers.map((res) => res.status)).toEqual([503, 503, 503, 503, 503, 503]);
    for (const res of answers) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(answers[5].headers['set-cookie']).toBeUndefined();
    expect((await http(adapter).get('/probe/public')).status).toBe(200);
  });

  it.each(ADAPTERS)('recovers by itself once the database is back: the session from before the outage passes again (%s)', async (adapter) => {
    if (adapter === ADAPTERS[0]) await server.startServer();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await http(adapter).get('/probe/guarded').set('Cookie', cookies.get(adapter)!)).status;
      if (status === 200) break;
      expect(status).toBe(503);
      await sleep(200);
    }
    expect(status).toBe(200);
    expect((await http(adapter).post('/auth/login').send(CREDENTIALS)).status).toBe(200);
  });

  it('went through the outage without an unhandled rejection or an uncaught exception', async () => {
    await sleep(OPERATION_TIMEOUT_MS + 200);
    expect(processFaults).toEqual([]);
  });
});
