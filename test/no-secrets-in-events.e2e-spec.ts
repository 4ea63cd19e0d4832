/**
 * SECURITY row 26 across every flow: a run of login, data write, rotation, refresh, refresh
 * reuse, password confirmation, failed logins, CSRF rejections and logout, capturing every event
 * (on the Nest event bus) and every log line (a LoggerService), must show no password, cookie
 * value, session token, access token (JWT), refresh token or CSRF token issued or used in the run.
 */
import type { INestApplication, LoggerService } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import type { Response } from 'supertest';
import { JwtProbeController, TEST_KEYS } from './support/jwt-helpers.js';
import { http, MATRIX, setCookies, storeOption, type StoreKind } from './support/http-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { createTestApp, TEST_USERS, type AdapterName } from './support/test-app.js';

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

/** A secret and the long parts of it (a cookie's token and signature, a JWT's segments). */
function withParts(value: string): string[] {
  return [value, ...value.split(/[.;=,\s]/).filter((part) => part.length >= 20)];
}

describe.each(MATRIX)('no secret in any event or log line over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let server: INestApplication;
  afterEach(async () => {
    await server?.close();
  });

  it('holds across a run of every flow in hybrid mode with the CSRF token on', async () => {
    const lines: string[] = [];
    const capture: LoggerService = {
      log: (message, ...rest) => lines.push([message, ...rest].map(String).join(' ')),
      warn: (message, ...rest) => lines.push([message, ...rest].map(String).join(' ')),
      error: (message, ...rest) => lines.push([message, ...rest].map(String).join(' ')),
      debug: (message, ...rest) => lines.push([message, ...rest].map(String).join(' ')),
      verbose: (message, ...rest) => lines.push([message, ...rest].map(String).join(' ')),
    };
    server = await createTestApp({
      adapter,
      logger: capture,
      imports: [EventEmitterModule.forRoot()],
      controllers: [JwtProbeController],
      session: { mode: 'hybrid', store: storeOption(store, redis.url), jwt: { keys: [TEST_KEYS.hs1] }, csrf: { token: true } },
    });
    const events: Array<[string, unknown]> = [];
    server.get(EventEmitter2).onAny((name, payload) => events.push([String(name), payload]));

    const secrets: string[] = [...Object.values(TEST_USERS).map((account) => account.password)];
    const seen = (response: Response): Response => {
      for (const raw of setCookies(response)) secrets.push(...withParts(raw.split(';')[0].split('=').slice(1).join('=')));
      for (const name of ['accessToken', 'refreshToken', 'csrfToken', 'token'] as const) {
        const value = (response.body as Record<string, unknown>)?.[name];
        if (typeof value === 'string' && value !== '') secrets.push(...withParts(value));
      }
      return response;
    };
    const cookieOf = (response: Response) => setCookies(response).find((raw) => raw.startsWith('sid='))!.split(';')[0];

    // Login, data write, bearer use.
    const first = seen(await http(server).post('/auth/login').send({ username: 'alice', password: 'alice-password' }).expect(200));
    let cookie = cookieOf(first);
    let csrf = first.body.csrfToken as string;
    await http(server).put('/probe/data/k').set('Cookie', cookie).set('x-csrf-token', csrf).send({ value: 'v' }).expect(200);
    await http(server).get('/probe/any').set('Authorization', `Bearer ${first.body.accessToken}`).expect(200);

    // Failed logins: a wrong password, a password typed into the username field, a cross-site post.
    await http(server).post('/auth/login').send({ username: 'alice', password: 'not-alice-password' }).expect(401);
    secrets.push('not-alice-password');
    await http(server).post('/auth/login').send({ username: 'root-password', password: 'alice-password' }).expect(401);
    await http(server).post('/auth/login').set('Sec-Fetch-Site', 'cross-site').send({ username: 'root', password: 'root-password' }).expect(403);

    // CSRF rejections: no token, another session's token.
    const other = seen(await http(server).post('/auth/login').send({ username: 'root', password: 'root-password' }).expect(200));
    await http(server).put('/probe/data/k').set('Cookie', cookie).send({ value: 'x' }).expect(403);
    await http(server).put('/probe/data/k').set('Cookie', cookie).set('x-csrf-token', other.body.csrfToken).send({ value: 'x' }).expect(403);

    // Rotation (cookie and tokens), then the new CSRF token.
    const promoted = seen(await http(server).post('/probe/promote').set('Cookie', cookie).set('x-csrf-token', csrf).expect(201));
    cookie = cookieOf(promoted);
    csrf = seen(await http(server).get('/auth/csrf').set('Cookie', cookie).expect(200)).body.token as string;
    await http(server).put('/probe/data/k').set('Cookie', cookie).set('x-csrf-token', csrf).send({ value: 'w' }).expect(200);

    // Refresh, and reuse of the consumed refresh token.
    const refreshed = seen(await http(server).post('/auth/refresh').send({ refreshToken: promoted.body.refreshToken }).expect(200));
    await http(server).post('/auth/refresh').send({ refreshToken: promoted.body.refreshToken }).expect(401);

    // Password confirmation, right and wrong, on the second session.
    const otherCookie = cookieOf(other);
    const confirm = (password: string) =>
      http(server).post('/auth/confirm-password').set('Cookie', otherCookie).set('x-csrf-token', other.body.csrfToken).send({ password });
    await confirm('root-password').expect(204);
    await confirm('wrong-root-password').expect(401);
    secrets.push('wrong-root-password');

    // Logout: by cookie (with its token), and a bearer one.
    await http(server).post('/auth/logout').set('Cookie', otherCookie).set('x-csrf-token', other.body.csrfToken).expect(204);
    await http(server).post('/auth/logout').set('Authorization', `Bearer ${refreshed.body.accessToken}`).expect(204);

    const types = new Set(events.map(([name]) => name));
    for (const type of ['login.succeeded', 'login.failed', 'csrf.rejected', 'session.rotated', 'refresh.reused', 'logout']) {
      expect(types).toContain(`session-auth.${type}`);
    }
    expect(lines.some((line) => line.includes('"type":"csrf.rejected"'))).toBe(true);
    const text = [...events.map((entry) => JSON.stringify(entry)), ...lines].join('\n');
    expect(secrets.length).toBeGreaterThan(20);
    for (const secret of new Set(secrets)) expect(text).not.toContain(secret);
  });
});
