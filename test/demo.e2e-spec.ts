import 'reflect-metadata';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import { readDemoConfig } from '../src/demo/demo-config.js';
import { DemoModule } from '../src/demo/demo.module.js';
import { DemoUsers } from '../src/demo/demo-users.js';
import { SessionConfigurationError } from '../src/index.js';
import { getFreePort } from './support/free-port.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, sessionCookieFrom, startApp, TEST_SECRET, type AdapterName } from './support/test-app.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALICE = { username: 'alice', password: 'alice-demo-password' };
const ADMIN = { username: 'admin', password: 'admin-demo-password' };

let users: DemoUsers;

beforeAll(async () => {
  users = await DemoUsers.create();
});

async function bootDemo(adapter: AdapterName, env: NodeJS.ProcessEnv): Promise<INestApplication> {
  const config = readDemoConfig({ ...env });
  const moduleRef = await Test.createTestingModule({ imports: [DemoModule.register(config, users)] }).compile();
  return startApp(moduleRef, adapter, config.trustProxy);
}

async function login(app: INestApplication, credentials: { username: string; password: string }): Promise<string> {
  const response = await request(app.getHttpServer()).post('/auth/login').send(credentials).expect(200);
  return sessionCookieFrom(response);
}

describe('readDemoConfig', () => {
  it('fills in defaults for an empty environment', () => {
    const config = readDemoConfig({ SESSION_SECRET: TEST_SECRET });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 3000, adapter: 'express', trustProxy: false, warnings: [] });
    expect(config.session).toEqual({ mode: 'session', secret: TEST_SECRET, store: { type: 'memory' } });
  });

  it('reads every documented variable', () => {
    const config = readDemoConfig({
      HOST: '0.0.0.0',
      PORT: '8080',
      ADAPTER: 'fastify',
      TRUST_PROXY: '1',
      AUTH_MODE: 'session',
      SESSION_SECRET: TEST_SECRET,
      IDLE_TIMEOUT: '5m',
      ABSOLUTE_TIMEOUT: '1h',
    });
    expect(config).toMatchObject({ host: '0.0.0.0', port: 8080, adapter: 'fastify', trustProxy: true });
    expect(config.session).toMatchObject({ idleTimeout: '5m', absoluteTimeout: '1h' });
  });

  it.each([['koa'], ['Express'], ['']])('rejects ADAPTER=%j', (ADAPTER) => {
    expect(() => readDemoConfig({ ADAPTER })).toThrow(/ADAPTER/);
  });

  it.each([['abc'], ['70000'], ['-1'], ['80.5'], ['65536']])('rejects PORT=%j', (PORT) => {
    expect(() => readDemoConfig({ PORT })).toThrow(/PORT/);
  });

  it.each([['oauth'], ['JWT'], ['SESSION']])('rejects AUTH_MODE=%j', (AUTH_MODE) => {
    expect(() => readDemoConfig({ AUTH_MODE })).toThrow(/AUTH_MODE/);
  });

  it('warns about a missing SESSION_SECRET and uses a random secret long enough for the module', () => {
    const first = readDemoConfig({});
    const second = readDemoConfig({ SESSION_SECRET: '' });
    expect(first.warnings).toEqual([expect.stringMatching(/SESSION_SECRET/)]);
    expect(second.warnings).toEqual([expect.stringMatching(/SESSION_SECRET/)]);
    expect(typeof first.session.secret).toBe('string');
    expect((first.session.secret as string).length).toBeGreaterThanOrEqual(32);
    expect(first.session.secret).not.toBe(second.session.secret);
  });

  it('uses Redis when REDIS_URL is set, with the demo key prefix unless REDIS_KEY_PREFIX is given', () => {
    expect(readDemoConfig({ REDIS_URL: 'redis://127.0.0.1:1' }).session.store).toEqual({
      type: 'redis',
      url: 'redis://127.0.0.1:1',
      keyPrefix: 'demo-sess:',
    });
    expect(readDemoConfig({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_KEY_PREFIX: 'x:' }).session.store).toMatchObject({
      keyPrefix: 'x:',
    });
  });

  it('leaves a too-short SESSION_SECRET to the module, which refuses to boot', async () => {
    let error: unknown;
    try {
      await Test.createTestingModule({ imports: [DemoModule.register(readDemoConfig({ SESSION_SECRET: 'short' }), users)] }).compile();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SessionConfigurationError);
    expect((error as SessionConfigurationError).option).toBe('secret');
  });
});

describe.each(ADAPTERS)('the demo app over %s', (adapter) => {
  let app: INestApplication;
  let aliceCookie: string;
  let adminCookie: string;

  beforeAll(async () => {
    app = await bootDemo(adapter, { SESSION_SECRET: TEST_SECRET });
    aliceCookie = await login(app, ALICE);
    adminCookie = await login(app, ADMIN);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('serves an HTML page with a login form at /', async () => {
    const response = await request(app.getHttpServer()).get('/').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.text).toMatch(/^<!doctype html>/i);
    expect(response.text).toContain('id="username"');
    expect(response.text).toMatch(/<input id="password" type="password"/);
    expect(response.text).toContain('id="login-button"');
    expect(response.text).toContain("'/auth/login'");
  });

  it('logs alice in with the demo password and rejects a wrong one', async () => {
    const me = await request(app.getHttpServer()).get('/auth/me').set('Cookie', aliceCookie).expect(200);
    expect(me.body.user).toEqual({ id: 'u-alice', username: 'alice', roles: ['user'] });
    await request(app.getHttpServer()).post('/auth/login').send({ ...ALICE, password: 'wrong' }).expect(401);
    await request(app.getHttpServer()).post('/auth/login').send({ username: 'nobody', password: 'x' }).expect(401);
  });

  it('lets only the admin see /admin/stats', async () => {
    await request(app.getHttpServer()).get('/admin/stats').expect(401);
    await request(app.getHttpServer()).get('/admin/stats').set('Cookie', aliceCookie).expect(403);
    const stats = await request(app.getHttpServer()).get('/admin/stats').set('Cookie', adminCookie).expect(200);
    expect(stats.body).toEqual({ uptimeSeconds: expect.any(Number), memoryRssBytes: expect.any(Number) });
  });

  it('stores and returns session data for an authenticated user', async () => {
    const server = app.getHttpServer();
    const put = await request(server).put('/demo/session/theme').set('Cookie', aliceCookie).send({ value: 'dark' }).expect(200);
    expect(put.body).toMatchObject({ theme: 'dark' });
    await request(server).put('/demo/session/prefs').set('Cookie', aliceCookie).send({ value: { size: 3 } }).expect(200);
    const data = await request(server).get('/demo/session').set('Cookie', aliceCookie).expect(200);
    expect(data.body).toEqual({ theme: 'dark', prefs: { size: 3 } });
    const adminData = await request(server).get('/demo/session').set('Cookie', adminCookie).expect(200);
    expect(adminData.body).toEqual({});
  });

  it('answers 401 to the session data routes without a session', async () => {
    const server = app.getHttpServer();
    await request(server).get('/demo/session').expect(401);
    await request(server).put('/demo/session/theme').send({ value: 'dark' }).expect(401);
    await request(server).get('/demo/session').set('Cookie', 'sid=forged.value.here').expect(401);
  });

  it('answers 400 to a PUT without a value', async () => {
    const server = app.getHttpServer();
    await request(server).put('/demo/session/theme').set('Cookie', aliceCookie).send({}).expect(400);
    await request(server).put('/demo/session/theme').set('Cookie', aliceCookie).send({ other: 1 }).expect(400);
  });

  it('answers 400 to a PUT with a key the session cannot hold', async () => {
    await request(app.getHttpServer())
      .put('/demo/session/my%20key')
      .set('Cookie', aliceCookie)
      .send({ value: 1 })
      .expect(400);
  });

  it('logs out and the cookie stops working', async () => {
    const cookie = await login(app, ALICE);
    await request(app.getHttpServer()).post('/auth/logout').set('Cookie', cookie).expect(204);
    await request(app.getHttpServer()).get('/demo/session').set('Cookie', cookie).expect(401);
    await request(app.getHttpServer()).get('/auth/me').set('Cookie', aliceCookie).expect(200);
  });
});

describe('the demo app with REDIS_URL', () => {
  let redis: RedisServerHandle;
  let admin: Redis;

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url);
  });

  afterAll(async () => {
    await admin?.quit();
    await redis?.stop();
  });

  it.each(ADAPTERS)('keeps sessions in Redis under REDIS_KEY_PREFIX over %s', async (adapter) => {
    const prefix = `demo-e2e-${adapter}:`;
    const app = await bootDemo(adapter, { SESSION_SECRET: TEST_SECRET, REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix });
    try {
      expect(await admin.keys(`${prefix}*`)).toEqual([]);
      const cookie = await login(app, ALICE);
      const keys = await admin.keys(`${prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((key) => key.startsWith(prefix))).toBe(true);
      await request(app.getHttpServer()).put('/demo/session/theme').set('Cookie', cookie).send({ value: 'dark' }).expect(200);
      const data = await request(app.getHttpServer()).get('/demo/session').set('Cookie', cookie).expect(200);
      expect(data.body).toEqual({ theme: 'dark' });
    } finally {
      await app.close();
    }
  });
});

describe('the built demo', () => {
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  });

  it('starts as a process and answers GET / with 200', async () => {
    const main = join(ROOT, 'dist', 'demo', 'main.js');
    if (!existsSync(main)) {
      const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
      expect(build.status).toBe(0);
    }
    const port = await getFreePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', SESSION_SECRET: TEST_SECRET };
    delete env.REDIS_URL;
    delete env.ADAPTER;
    delete env.AUTH_MODE;
    delete env.NODE_OPTIONS;
    let output = '';
    child = spawn(process.execPath, [main], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));

    let status = 0;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/`);
        status = response.status;
        await response.text();
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect([status, child.exitCode]).toEqual([200, null]);
    expect(output).toMatch(/Listening on/);
  }, 40_000);
});
