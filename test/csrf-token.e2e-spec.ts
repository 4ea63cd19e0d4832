/**
 * SECURITY row 22, the token half: with `csrf: { token: true }` every unsafe request that the
 * session cookie authenticates must carry the session's synchronizer token, for browsers that
 * send neither Fetch Metadata nor Origin. Bearer requests are exempt; a missing token, another
 * session's token, or one from before a rotation → 403.
 */
import { Controller, HttpCode, Post, type INestApplication } from '@nestjs/common';
import type { AuthEvent } from '../src/core/auth-events.js';
import { CsrfProtected, CurrentSession, Public, type Session, type SessionModuleOptions } from '../src/index.js';
import { http, login, MATRIX, meStatus, storeOption, type StoreKind } from './support/http-helpers.js';
import { createJwtApp, tokenLogin } from './support/jwt-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { createTestApp, type AdapterName } from './support/test-app.js';

/** A state-changing route with no auth guard, protected the same way by the decorator. */
@Controller('forms')
class FormController {
  @Public()
  @CsrfProtected()
  @Post('note')
  @HttpCode(204)
  note(@CurrentSession() session: Session): void {
    session.set('note', 'written');
  }
}

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe.each(MATRIX)('CSRF token over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  async function app(session: Partial<SessionModuleOptions> = {}) {
    const created = await createTestApp({
      adapter,
      controllers: [FormController],
      session: { store: storeOption(store, redis.url), csrf: { token: true }, ...session },
    });
    apps.push(created);
    return created;
  }
  const put = (server: INestApplication, cookie: string, token?: string, header = 'x-csrf-token') => {
    const req = http(server).put('/probe/data/k').set('Cookie', cookie);
    return (token === undefined ? req : req.set(header, token)).send({ value: 1 });
  };
  const dataOf = async (server: INestApplication, cookie: string) =>
    (await http(server).get('/probe/data').set('Cookie', cookie).expect(200)).body as Record<string, unknown>;

  it('hands out the token in the login answer and from GET /auth/csrf, and accepts it on an unsafe request', async () => {
    const server = await app();
    const { response, cookie } = await login(server, 'alice');
    const token = response.body.csrfToken as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const fetched = await http(server).get('/auth/csrf').set('Cookie', cookie).expect(200);
    expect(fetched.body).toEqual({ token });
    expect(fetched.headers['cache-control']).toContain('no-store');
    await put(server, cookie, token).expect(200);
    expect(await dataOf(server, cookie)).toEqual({ k: 1 });
  });

  it('refuses a cookie-authenticated unsafe request without the token (no Fetch Metadata, no Origin) and stores nothing', async () => {
    const server = await app();
    const { cookie } = await login(server, 'alice');
    const refused = await put(server, cookie);
    expect(refused.status).toBe(403);
    expect(await dataOf(server, cookie)).toEqual({});
  });

  it('refuses the token of another session, an altered token, and a repeated one', async () => {
    const server = await app();
    const mine = await login(server, 'alice');
    const other = await login(server, 'alice');
    const token = mine.response.body.csrfToken as string;
    expect((await put(server, mine.cookie, other.response.body.csrfToken as string)).status).toBe(403);
    expect((await put(server, mine.cookie, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).status).toBe(403);
    expect((await put(server, mine.cookie, 'short')).status).toBe(403);
    // Two headers reach the app joined ("a, a"): refused, not "take the first".
    expect((await put(server, mine.cookie, `${token}, ${token}`)).status).toBe(403);
    expect(await dataOf(server, mine.cookie)).toEqual({});
  });

  it('refuses a token from before a rotation, and accepts the new one from GET /auth/csrf', async () => {
    const server = await app();
    const { response, cookie } = await login(server, 'alice');
    const before = response.body.csrfToken as string;
    const promoted = await http(server).post('/probe/promote').set('Cookie', cookie).set('x-csrf-token', before).expect(201);
    const rotated = String(promoted.headers['set-cookie']).split(';')[0];
    expect((await put(server, rotated, before)).status).toBe(403);
    const after = (await http(server).get('/auth/csrf').set('Cookie', rotated).expect(200)).body.token as string;
    expect(after).not.toBe(before);
    await put(server, rotated, after).expect(200);
  });

  it('needs no token on GET, and refuses cross-site requests even with the token', async () => {
    const server = await app();
    const { response, cookie } = await login(server, 'alice');
    await http(server).get('/probe/guarded').set('Cookie', cookie).expect(200);
    const crossSite = await http(server)
      .put('/probe/data/k')
      .set('Cookie', cookie)
      .set('x-csrf-token', response.body.csrfToken as string)
      .set('Sec-Fetch-Site', 'cross-site')
      .send({ value: 1 });
    expect(crossSite.status).toBe(403);
  });

  it('protects logout: a live session cookie without the token is refused, an expired one is still cleared', async () => {
    const server = await app();
    const { response, cookie } = await login(server, 'alice');
    expect((await http(server).post('/auth/logout').set('Cookie', cookie)).status).toBe(403);
    expect(await meStatus(server, cookie)).toBe(200);
    await http(server).post('/auth/logout').set('Cookie', cookie).set('x-csrf-token', response.body.csrfToken as string).expect(204);
    expect(await meStatus(server, cookie)).toBe(401);
    await http(server).post('/auth/logout').set('Cookie', cookie).expect(204);
  });

  it('protects a route without an auth guard through @CsrfProtected()', async () => {
    const server = await app();
    const { response, cookie } = await login(server, 'alice');
    expect((await http(server).post('/forms/note').set('Cookie', cookie)).status).toBe(403);
    expect(await dataOf(server, cookie)).toEqual({});
    await http(server).post('/forms/note').set('Cookie', cookie).set('x-csrf-token', response.body.csrfToken as string).expect(204);
    expect(await dataOf(server, cookie)).toEqual({ note: 'written' });
    expect((await http(server).post('/forms/note').set('Cookie', cookie).set('Sec-Fetch-Site', 'cross-site')).status).toBe(403);
  });

  it('reads the token from a configured header', async () => {
    const server = await app({ csrf: { token: true, headerName: 'X-XSRF-Token' } });
    const { response, cookie } = await login(server, 'alice');
    expect((await put(server, cookie, response.body.csrfToken as string)).status).toBe(403);
    await put(server, cookie, response.body.csrfToken as string, 'x-xsrf-token').expect(200);
  });

  it('emits csrf.rejected without the token', async () => {
    const events: AuthEvent[] = [];
    const server = await app({ onAuthEvent: (event) => events.push(event) });
    const { response, cookie } = await login(server, 'alice');
    await put(server, cookie, 'forged-token-value').expect(403);
    await put(server, cookie).expect(403);
    const rejected = events.filter((event) => event.type === 'csrf.rejected');
    expect(rejected).toEqual([
      { type: 'csrf.rejected', reason: 'token-mismatch', userId: 'u-alice', sessionId: expect.any(String), ip: expect.any(String) },
      { type: 'csrf.rejected', reason: 'token-missing', userId: 'u-alice', sessionId: expect.any(String), ip: expect.any(String) },
    ]);
    const text = JSON.stringify(events);
    expect(text).not.toContain(response.body.csrfToken as string);
    expect(text).not.toContain('forged-token-value');
  });

  it('is off without csrf.token: no token in the login answer, GET /auth/csrf is 404, requests need none', async () => {
    const server = await app({ csrf: {} });
    const { response, cookie } = await login(server, 'alice');
    expect(response.body.csrfToken).toBeUndefined();
    await http(server).get('/auth/csrf').set('Cookie', cookie).expect(404);
    await put(server, cookie).expect(200);
  });

  it('is off entirely with csrf: false', async () => {
    const server = await app({ csrf: false });
    const { cookie } = await login(server, 'alice');
    await put(server, cookie).expect(200);
    await http(server).put('/probe/data/k').set('Cookie', cookie).set('Sec-Fetch-Site', 'cross-site').send({ value: 2 }).expect(200);
  });

  it('answers 401 on GET /auth/csrf without a session cookie', async () => {
    const server = await app();
    await http(server).get('/auth/csrf').expect(401);
  });

  it('in hybrid mode asks the cookie for the token and exempts bearer requests', async () => {
    const server = await createJwtApp({ adapter, mode: 'hybrid', store: storeOption(store, redis.url), session: { csrf: { token: true } } });
    apps.push(server);
    const { response, accessToken } = await tokenLogin(server);
    const cookie = String(response.headers['set-cookie']).split(';')[0];
    const token = response.body.csrfToken as string;
    expect(typeof token).toBe('string');
    expect((await put(server, cookie)).status).toBe(403);
    await put(server, cookie, token).expect(200);
    await http(server).post('/probe/password-changed').set('Authorization', `Bearer ${accessToken}`).expect(201);
  });

  it('gives no csrfToken in jwt mode, where there is no session cookie', async () => {
    const server = await createJwtApp({ adapter, store: storeOption(store, redis.url), session: { csrf: { token: true } } });
    apps.push(server);
    const { response, accessToken } = await tokenLogin(server);
    expect(response.body.csrfToken).toBeUndefined();
    await http(server).post('/probe/password-changed').set('Authorization', `Bearer ${accessToken}`).expect(201);
  });

  it.each([[{ token: 'yes' }, 'csrf.token'], [{ token: true, headerName: 'x csrf' }, 'csrf.headerName']])(
    'fails at boot on csrf %j',
    async (csrf, option) => {
      await expect(createTestApp({ adapter, session: { csrf: csrf as never } })).rejects.toThrow(option);
    },
  );
});
