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
import { setCookies } from './support/http-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, sessionCookieFrom, startApp, TEST_SECRET, type AdapterName } from './support/test-app.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALICE = { username: 'alice', password: 'alice-demo-password' };
const ADMIN = { username: 'admin', password: 'admin-demo-password' };
const JWT_SECRET = 'demo-jwt-secret-that-is-long-enough-0123456789';

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

  it.each([['oauth'], ['JWT'], ['SESSION'], ['Hybrid'], ['cookie'], [''], [' jwt'], ['jwt,session']])('rejects AUTH_MODE=%j', (AUTH_MODE) => {
    expect(() => readDemoConfig({ AUTH_MODE, SESSION_SECRET: TEST_SECRET, JWT_SECRET })).toThrow(/AUTH_MODE/);
  });

  it.each([['jwt'], ['hybrid']] as const)('accepts AUTH_MODE=%s with a jwt key of the given JWT_SECRET, and no warning', (mode) => {
    const config = readDemoConfig({ AUTH_MODE: mode, SESSION_SECRET: TEST_SECRET, JWT_SECRET });
    expect(config.warnings).toEqual([]);
    expect(config.session).toEqual({
      mode,
      secret: TEST_SECRET,
      store: { type: 'memory' },
      jwt: { keys: [{ kid: 'demo', alg: 'HS256', secret: JWT_SECRET }] },
    });
  });

  it.each([['jwt'], ['hybrid']] as const)('in AUTH_MODE=%s warns about a missing JWT_SECRET and uses a random key long enough for HS256', (mode) => {
    const first = readDemoConfig({ AUTH_MODE: mode, SESSION_SECRET: TEST_SECRET });
    const second = readDemoConfig({ AUTH_MODE: mode, SESSION_SECRET: TEST_SECRET, JWT_SECRET: '' });
    for (const config of [first, second]) {
      expect(config.session.mode).toBe(mode);
      expect(config.warnings).toEqual([expect.stringMatching(/JWT_SECRET/)]);
      expect(config.session.jwt?.keys).toEqual([{ kid: 'demo', alg: 'HS256', secret: expect.any(String) }]);
      expect(Buffer.byteLength(config.session.jwt!.keys[0].secret!)).toBeGreaterThanOrEqual(32);
    }
    expect(first.session.jwt!.keys[0].secret).not.toBe(second.session.jwt!.keys[0].secret);
    // Both secrets missing: both warnings.
    expect(readDemoConfig({ AUTH_MODE: mode }).warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/JWT_SECRET/), expect.stringMatching(/SESSION_SECRET/)]),
    );
  });

  it.each([['jwt'], ['hybrid']] as const)('in AUTH_MODE=%s passes ACCESS_TOKEN_TTL and REFRESH_TOKEN_TTL through', (mode) => {
    const config = readDemoConfig({
      AUTH_MODE: mode,
      SESSION_SECRET: TEST_SECRET,
      JWT_SECRET,
      ACCESS_TOKEN_TTL: '5m',
      REFRESH_TOKEN_TTL: '2d',
    });
    expect(config.session.jwt).toEqual({
      keys: [{ kid: 'demo', alg: 'HS256', secret: JWT_SECRET }],
      accessTokenTtl: '5m',
      refreshTokenTtl: '2d',
    });
    expect(readDemoConfig({ AUTH_MODE: mode, JWT_SECRET, ACCESS_TOKEN_TTL: '90s' }).session.jwt).toEqual({
      keys: [{ kid: 'demo', alg: 'HS256', secret: JWT_SECRET }],
      accessTokenTtl: '90s',
    });
  });

  it('in session mode ignores JWT_SECRET and the token TTLs: no jwt options, no JWT warning', () => {
    const config = readDemoConfig({ AUTH_MODE: 'session', SESSION_SECRET: TEST_SECRET, ACCESS_TOKEN_TTL: '5m' });
    expect(config.warnings).toEqual([]);
    expect(config.session).toEqual({ mode: 'session', secret: TEST_SECRET, store: { type: 'memory' } });
    expect(readDemoConfig({ AUTH_MODE: 'session', SESSION_SECRET: TEST_SECRET, JWT_SECRET }).session).not.toHaveProperty('jwt');
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
    // A real form, so Enter submits it; the script handles its submit event.
    expect(response.text).toMatch(/<form id="login-form">[\s\S]*<button id="login-button" type="submit">[\s\S]*<\/form>/);
    expect(response.text).toContain("$('login-form').addEventListener('submit'");
  });

  it('serves a page script that parses and works with bearer tokens as well as the cookie', async () => {
    const response = await request(app.getHttpServer()).get('/').expect(200);
    const script = /<script>([\s\S]*?)<\/script>/.exec(response.text)?.[1] ?? '';
    expect(() => new Function(script)).not.toThrow();
    expect(script).toContain("headers.Authorization = 'Bearer ' + tokens.access");
    expect(script).toContain("fetch('/auth/refresh'");
    expect(script).not.toMatch(/localStorage|sessionStorage/);
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

interface TokenAnswer {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
}

/** POST /auth/login in jwt/hybrid mode: the answer's tokens and its Set-Cookie headers. */
async function tokenLogin(
  app: INestApplication,
  credentials: { username: string; password: string },
): Promise<{ tokens: TokenAnswer; cookies: string[]; body: Record<string, unknown> }> {
  const response = await request(app.getHttpServer()).post('/auth/login').send(credentials).expect(200);
  const body = response.body as Record<string, unknown>;
  return { tokens: body as unknown as TokenAnswer, cookies: setCookies(response), body };
}

const bearer = (token: string): string => `Bearer ${token}`;

describe.each(ADAPTERS)('the demo app in AUTH_MODE=jwt over %s', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await bootDemo(adapter, { SESSION_SECRET: TEST_SECRET, AUTH_MODE: 'jwt', JWT_SECRET, ACCESS_TOKEN_TTL: '5m' });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('logs alice in with tokens and no cookie, and forbids caching the answer', async () => {
    const response = await request(app.getHttpServer()).post('/auth/login').send(ALICE).expect(200);
    expect(response.body).toEqual({
      user: { id: 'u-alice', username: 'alice', roles: ['user'] },
      accessToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 300,
    });
    expect(response.body.refreshToken).not.toBe(response.body.accessToken);
    expect(setCookies(response)).toEqual([]);
    expect(response.headers['cache-control']).toBe('no-store');
    await request(app.getHttpServer()).post('/auth/login').send({ ...ALICE, password: 'wrong' }).expect(401);
  });

  it('serves /demo/session and /auth/me to the bearer token, and 401 without it', async () => {
    const { tokens } = await tokenLogin(app, ALICE);
    const server = app.getHttpServer();
    const me = await request(server).get('/auth/me').set('Authorization', bearer(tokens.accessToken)).expect(200);
    expect(me.body.user).toEqual({ id: 'u-alice', username: 'alice', roles: ['user'] });
    expect((await request(server).get('/demo/session').set('Authorization', bearer(tokens.accessToken)).expect(200)).body).toEqual({});
    await request(server).put('/demo/session/theme').set('Authorization', bearer(tokens.accessToken)).send({ value: 'dark' }).expect(200);
    const data = await request(server).get('/demo/session').set('Authorization', bearer(tokens.accessToken)).expect(200);
    expect(data.body).toEqual({ theme: 'dark' });

    await request(server).get('/demo/session').expect(401);
    await request(server).get('/demo/session').set('Authorization', bearer(tokens.refreshToken)).expect(401);
    await request(server).get('/demo/session').set('Authorization', bearer(`${tokens.accessToken}x`)).expect(401);
  });

  it('lets only the admin token see /admin/stats', async () => {
    const alice = (await tokenLogin(app, ALICE)).tokens;
    const admin = (await tokenLogin(app, ADMIN)).tokens;
    await request(app.getHttpServer()).get('/admin/stats').set('Authorization', bearer(alice.accessToken)).expect(403);
    await request(app.getHttpServer()).get('/admin/stats').set('Authorization', bearer(admin.accessToken)).expect(200);
  });

  it('rotates on POST /auth/refresh: a new pair that works on the same session, the old refresh token refused', async () => {
    const server = app.getHttpServer();
    const { tokens } = await tokenLogin(app, ALICE);
    await request(server).put('/demo/session/cart').set('Authorization', bearer(tokens.accessToken)).send({ value: [1] }).expect(200);

    const refreshed = await request(server).post('/auth/refresh').send({ refreshToken: tokens.refreshToken }).expect(200);
    expect(refreshed.body).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 300,
    });
    expect(refreshed.body.refreshToken).not.toBe(tokens.refreshToken);
    expect(setCookies(refreshed)).toEqual([]);
    expect(refreshed.headers['cache-control']).toBe('no-store');
    const data = await request(server).get('/demo/session').set('Authorization', bearer(refreshed.body.accessToken)).expect(200);
    expect(data.body).toEqual({ cart: [1] });

    // The next refresh token rotates in turn.
    const again = await request(server).post('/auth/refresh').send({ refreshToken: refreshed.body.refreshToken }).expect(200);
    expect(again.body.refreshToken).not.toBe(refreshed.body.refreshToken);

    // Presenting a consumed token is reuse: refused, and the whole family (session) ends.
    await request(server).post('/auth/refresh').send({ refreshToken: tokens.refreshToken }).expect(401);
    await request(server).get('/demo/session').set('Authorization', bearer(again.body.accessToken)).expect(401);
    await request(server).post('/auth/refresh').send({ refreshToken: again.body.refreshToken }).expect(401);
  });

  it('refuses a refresh without a token or with a forged one', async () => {
    const server = app.getHttpServer();
    const { tokens } = await tokenLogin(app, ALICE);
    await request(server).post('/auth/refresh').send({}).expect(401);
    await request(server).post('/auth/refresh').send({ refreshToken: tokens.accessToken }).expect(401);
    const [tag, sid] = tokens.refreshToken.split('.');
    await request(server).post('/auth/refresh').send({ refreshToken: `${tag}.${sid}.${'A'.repeat(43)}` }).expect(401);
    // A forged guess does not end the family: the real token still works.
    await request(server).post('/auth/refresh').send({ refreshToken: tokens.refreshToken }).expect(200);
  });

  it('logs out with the bearer token: the access and refresh tokens stop working', async () => {
    const server = app.getHttpServer();
    const { tokens } = await tokenLogin(app, ALICE);
    await request(server).post('/auth/logout').set('Authorization', bearer(tokens.accessToken)).expect(204);
    await request(server).get('/demo/session').set('Authorization', bearer(tokens.accessToken)).expect(401);
    await request(server).post('/auth/refresh').send({ refreshToken: tokens.refreshToken }).expect(401);
  });
});

describe.each(ADAPTERS)('the demo app in AUTH_MODE=hybrid over %s', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await bootDemo(adapter, { SESSION_SECRET: TEST_SECRET, AUTH_MODE: 'hybrid', JWT_SECRET });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('login gives a session cookie and tokens, and both reach the same session', async () => {
    const server = app.getHttpServer();
    const response = await request(server).post('/auth/login').send(ALICE).expect(200);
    const cookie = sessionCookieFrom(response);
    const tokens = response.body as TokenAnswer;
    expect(tokens).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer' });
    expect(tokens.expiresIn).toBe(15 * 60);

    await request(server).put('/demo/session/theme').set('Cookie', cookie).send({ value: 'dark' }).expect(200);
    const viaBearer = await request(server).get('/demo/session').set('Authorization', bearer(tokens.accessToken)).expect(200);
    expect(viaBearer.body).toEqual({ theme: 'dark' });
    await request(server).put('/demo/session/lang').set('Authorization', bearer(tokens.accessToken)).send({ value: 'fr' }).expect(200);
    const viaCookie = await request(server).get('/demo/session').set('Cookie', cookie).expect(200);
    expect(viaCookie.body).toEqual({ theme: 'dark', lang: 'fr' });
    const me = await request(server).get('/auth/me').set('Cookie', cookie).expect(200);
    expect(me.body.user).toEqual({ id: 'u-alice', username: 'alice', roles: ['user'] });
  });

  it('refreshes the tokens while the cookie keeps working, and logout by cookie ends the tokens too', async () => {
    const server = app.getHttpServer();
    const response = await request(server).post('/auth/login').send(ALICE).expect(200);
    const cookie = sessionCookieFrom(response);
    const tokens = response.body as TokenAnswer;

    const refreshed = await request(server).post('/auth/refresh').send({ refreshToken: tokens.refreshToken }).expect(200);
    expect(refreshed.body.refreshToken).not.toBe(tokens.refreshToken);
    await request(server).get('/demo/session').set('Authorization', bearer(refreshed.body.accessToken)).expect(200);
    await request(server).get('/demo/session').set('Cookie', cookie).expect(200);

    await request(server).post('/auth/logout').set('Cookie', cookie).expect(204);
    await request(server).get('/demo/session').set('Cookie', cookie).expect(401);
    await request(server).get('/demo/session').set('Authorization', bearer(refreshed.body.accessToken)).expect(401);
    await request(server).post('/auth/refresh').send({ refreshToken: refreshed.body.refreshToken }).expect(401);
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

  it.each(ADAPTERS)('in AUTH_MODE=jwt keeps token families in Redis without any raw refresh token over %s', async (adapter) => {
    const prefix = `demo-jwt-e2e-${adapter}:`;
    const app = await bootDemo(adapter, { SESSION_SECRET: TEST_SECRET, AUTH_MODE: 'jwt', JWT_SECRET, REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix });
    try {
      const server = app.getHttpServer();
      const { tokens, cookies } = await tokenLogin(app, ALICE);
      expect(cookies).toEqual([]);
      const refreshed = await request(server).post('/auth/refresh').send({ refreshToken: tokens.refreshToken }).expect(200);
      const data = await request(server).get('/demo/session').set('Authorization', bearer(refreshed.body.accessToken)).expect(200);
      expect(data.body).toEqual({});

      const keys = await admin.keys(`${prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      const stored: string[] = [...keys];
      for (const key of keys) {
        const type = await admin.type(key);
        if (type === 'hash') stored.push(...Object.entries(await admin.hgetall(key)).flat());
        else if (type === 'zset') stored.push(...(await admin.zrange(key, 0, -1)));
        else stored.push((await admin.get(key)) ?? ''); // login throttle counters
      }
      for (const token of [tokens.refreshToken, refreshed.body.refreshToken as string]) {
        const secret = token.split('.')[2];
        expect(secret).toHaveLength(43);
        for (const value of stored) expect(value).not.toContain(secret);
      }
      await request(server).post('/auth/refresh').send({ refreshToken: tokens.refreshToken }).expect(401);
      await request(server).get('/demo/session').set('Authorization', bearer(refreshed.body.accessToken)).expect(401);
    } finally {
      await app.close();
    }
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
