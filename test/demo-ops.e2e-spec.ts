/**
 * The demo's operations routes, through createDemoApp (the app `npm start` runs) on a real Redis:
 * `GET /health` answers 200 with the store up and 503 with it frozen or dead, within 1 s either
 * way; `GET /metrics` (METRICS=1) serves the Prometheus text format; STORE_UNAVAILABLE picks the
 * storeUnavailable policy.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createDemoApp } from '../src/demo/demo-app.js';
import { readDemoConfig } from '../src/demo/demo-config.js';
import { readDemoOpsOptions } from '../src/demo/demo-ops.js';
import { DemoUsers } from '../src/demo/demo-users.js';
import { eventually, redisPid } from './support/redis-process.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, TEST_SECRET, type AdapterName } from './support/test-app.js';

const ALICE = { username: 'alice', password: 'alice-demo-password' };
const JWT_SECRET = 'demo-jwt-secret-that-is-long-enough-0123456789';
const WITHIN_MS = 1_000;

describe('readDemoOpsOptions', () => {
  it('reads METRICS and STORE_UNAVAILABLE, and leaves the module defaults when they are unset', () => {
    expect(readDemoOpsOptions({})).toEqual({});
    expect(readDemoOpsOptions({ METRICS: '0' })).toEqual({});
    expect(readDemoOpsOptions({ METRICS: '1', STORE_UNAVAILABLE: 'accept-stateless' })).toEqual({ metrics: true, storeUnavailable: 'accept-stateless' });
  });

  it.each([
    [{ METRICS: 'yes' }, 'METRICS'],
    [{ STORE_UNAVAILABLE: 'accept' }, 'STORE_UNAVAILABLE'],
  ])('refuses %j with a message naming %s', (env, name) => {
    expect(() => readDemoOpsOptions(env)).toThrow(name);
  });

  it('lets the module refuse STORE_UNAVAILABLE=accept-stateless in session mode at boot', async () => {
    const config = readDemoConfig({ SESSION_SECRET: TEST_SECRET, STORE_UNAVAILABLE: 'accept-stateless' });
    await expect(createDemoApp(config, await DemoUsers.create(), { logger: false, abortOnError: false })).rejects.toThrow(/`storeUnavailable`.*session mode/);
  });
});

describe.each(ADAPTERS)('the demo operations routes over %s', (adapter: AdapterName) => {
  let server: RedisServerHandle;
  let pid: number;
  let users: DemoUsers;
  let app: INestApplication | undefined;

  const readPid = async () => {
    pid = await redisPid(server.url);
  };

  beforeAll(async () => {
    server = await startRedisServer();
    await readPid();
    users = await DemoUsers.create();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function boot(env: NodeJS.ProcessEnv): Promise<INestApplication> {
    const config = readDemoConfig({ SESSION_SECRET: TEST_SECRET, ADAPTER: adapter, REDIS_URL: server.url, ...env });
    const created = await createDemoApp(config, users, { logger: false });
    await created.init();
    if (adapter === 'fastify') await created.getHttpAdapter().getInstance().ready();
    return created;
  }

  async function health(target: INestApplication): Promise<{ status: number; store: unknown; elapsed: number }> {
    const started = Date.now();
    const res = await request(target.getHttpServer()).get('/health').timeout(5_000);
    return { status: res.status, store: (res.body as { details?: Record<string, unknown> }).details?.['session-store'], elapsed: Date.now() - started };
  }

  it('answers GET /health with 200 while Redis is up and 503 while it is frozen or dead, within 1 s each time', async () => {
    app = await boot({});
    const up = await health(app);
    expect(up).toMatchObject({ status: 200, store: { status: 'up' } });
    expect(up.elapsed).toBeLessThan(WITHIN_MS);

    process.kill(pid, 'SIGSTOP');
    try {
      const frozen = await health(app);
      expect(frozen).toMatchObject({ status: 503, store: { status: 'down' } });
      expect(frozen.elapsed).toBeLessThan(WITHIN_MS);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(await health(app)).toMatchObject({ status: 200 });

    process.kill(pid, 'SIGKILL');
    try {
      const dead = await health(app);
      expect(dead).toMatchObject({ status: 503, store: { status: 'down' } });
      expect(dead.elapsed).toBeLessThan(WITHIN_MS);
    } finally {
      await server.restart();
      await readPid();
    }
    const target = app;
    const again = await eventually(() => health(target), (answer) => answer.status === 200);
    expect(again).toMatchObject({ status: 200, store: { status: 'up' } });
  });

  it('serves the metrics in the Prometheus text format on GET /metrics with METRICS=1, and no such route without', async () => {
    app = await boot({ METRICS: '1' });
    await request(app.getHttpServer()).post('/auth/login').send(ALICE).expect(200);
    await request(app.getHttpServer()).post('/auth/login').send({ ...ALICE, password: 'wrong' }).expect(401);
    const scraped = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(scraped.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(scraped.text.split('\n')).toEqual(
      expect.arrayContaining([
        '# TYPE session_auth_logins_total counter',
        'session_auth_logins_total{outcome="succeeded"} 1',
        'session_auth_logins_total{outcome="bad-credentials"} 1',
        'session_auth_sessions_active 1',
      ]),
    );
    await app.close();
    app = await boot({});
    await request(app.getHttpServer()).get('/metrics').expect(404);
  });

  it('keeps valid access tokens working while Redis is frozen with STORE_UNAVAILABLE=accept-stateless, and logins get 503', async () => {
    app = await boot({ AUTH_MODE: 'jwt', JWT_SECRET, STORE_UNAVAILABLE: 'accept-stateless', REDIS_KEY_PREFIX: `demo-ops-${adapter}:` });
    const login = await request(app.getHttpServer()).post('/auth/login').send(ALICE).expect(200);
    const bearer = `Bearer ${(login.body as { accessToken: string }).accessToken}`;
    process.kill(pid, 'SIGSTOP');
    try {
      const me = await request(app.getHttpServer()).get('/auth/me').set('Authorization', bearer).timeout(5_000);
      expect({ status: me.status, user: (me.body as { user?: { id: string } }).user?.id }).toEqual({ status: 200, user: expect.any(String) });
      await request(app.getHttpServer()).post('/auth/login').send(ALICE).timeout(5_000).expect(503);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});
