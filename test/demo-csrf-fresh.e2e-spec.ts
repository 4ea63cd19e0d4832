/**
 * The demo's parts of issue 10: `CSRF_TOKEN=1` turns the CSRF token on (`GET /auth/csrf`,
 * `csrfToken` in the login answer, `x-csrf-token` from the page), and `PUT /demo/fresh` wants a
 * password proof younger than `FRESH_LOGIN_WINDOW`, renewed by `POST /auth/confirm-password`.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { readDemoConfig } from '../src/demo/demo-config.js';
import { DemoModule } from '../src/demo/demo.module.js';
import { DemoUsers } from '../src/demo/demo-users.js';
import { sleep } from './support/http-helpers.js';
import { ADAPTERS, sessionCookieFrom, startApp, TEST_SECRET, type AdapterName } from './support/test-app.js';

const ALICE = { username: 'alice', password: 'alice-demo-password' };

let users: DemoUsers;
beforeAll(async () => {
  users = await DemoUsers.create();
});

async function bootDemo(adapter: AdapterName, env: NodeJS.ProcessEnv): Promise<INestApplication> {
  const config = readDemoConfig({ SESSION_SECRET: TEST_SECRET, ...env });
  const moduleRef = await Test.createTestingModule({ imports: [DemoModule.register(config, users)] }).compile();
  return startApp(moduleRef, adapter, config.trustProxy);
}

describe('readDemoConfig for issue 10', () => {
  it('turns the CSRF token on with CSRF_TOKEN=1 and reads FRESH_LOGIN_WINDOW (default 5m)', () => {
    expect(readDemoConfig({ SESSION_SECRET: TEST_SECRET, CSRF_TOKEN: '1' }).session.csrf).toEqual({ token: true });
    expect(readDemoConfig({ SESSION_SECRET: TEST_SECRET }).session.csrf).toBeUndefined();
    expect(readDemoConfig({ SESSION_SECRET: TEST_SECRET }).freshLoginWindow).toBe('5m');
    expect(readDemoConfig({ SESSION_SECRET: TEST_SECRET, FRESH_LOGIN_WINDOW: '30s' }).freshLoginWindow).toBe('30s');
  });
});

describe.each(ADAPTERS)('demo CSRF token and fresh login over %s', (adapter) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('with CSRF_TOKEN=1 gives the token at login and on GET /auth/csrf, and wants it on a session write', async () => {
    app = await bootDemo(adapter, { CSRF_TOKEN: '1' });
    const server = app.getHttpServer();
    const login = await request(server).post('/auth/login').send(ALICE).expect(200);
    const cookie = sessionCookieFrom(login);
    const token = login.body.csrfToken as string;
    expect((await request(server).get('/auth/csrf').set('Cookie', cookie).expect(200)).body).toEqual({ token });
    await request(server).put('/demo/session/k').set('Cookie', cookie).send({ value: 1 }).expect(403);
    await request(server).put('/demo/session/k').set('Cookie', cookie).set('x-csrf-token', token).send({ value: 1 }).expect(200);
  });

  it('serves a page that sends x-csrf-token when the login answer has a csrfToken', async () => {
    app = await bootDemo(adapter, { CSRF_TOKEN: '1' });
    const page = await request(app.getHttpServer()).get('/').expect(200);
    const script = /<script>([\s\S]*?)<\/script>/.exec(page.text)?.[1] ?? '';
    expect(() => new Function(script)).not.toThrow();
    expect(script).toContain("headers['x-csrf-token'] = csrfToken");
    expect(script).toContain('csrfToken = result.body.csrfToken');
  });

  it('answers PUT /demo/fresh with 204 after login, 401 past FRESH_LOGIN_WINDOW, 204 again after confirm-password', async () => {
    app = await bootDemo(adapter, { FRESH_LOGIN_WINDOW: '2s' });
    const server = app.getHttpServer();
    const cookie = sessionCookieFrom(await request(server).post('/auth/login').send(ALICE).expect(200));
    await request(server).put('/demo/fresh').set('Cookie', cookie).expect(204);
    await request(server).put('/demo/fresh').expect(401);
    await sleep(2100);
    const stale = await request(server).put('/demo/fresh').set('Cookie', cookie).expect(401);
    expect(stale.body.reauthenticate).toBe(true);
    await request(server).post('/auth/confirm-password').set('Cookie', cookie).send({ password: ALICE.password }).expect(204);
    await request(server).put('/demo/fresh').set('Cookie', cookie).expect(204);
  });

  it('refuses to start with a FRESH_LOGIN_WINDOW that is not a duration', async () => {
    await expect(bootDemo(adapter, { FRESH_LOGIN_WINDOW: 'soon' })).rejects.toThrow('RequireFreshLogin window');
  });
});
