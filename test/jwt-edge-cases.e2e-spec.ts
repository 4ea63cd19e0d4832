/**
 * Edge cases of jwt and hybrid mode found in review: stateless sessions that must be loaded
 * before a password change, logout with an expired access token, non-Bearer Authorization
 * headers in hybrid mode, planted refresh cookies, and the refresh route in session mode.
 */
import type { INestApplication } from '@nestjs/common';
import { ADAPTERS, createTestApp, sessionCookieFrom } from './support/test-app.js';
import { http, sleep } from './support/http-helpers.js';
import { bearerStatus, createJwtApp, refreshStatus, refreshWith, tokenLogin } from './support/jwt-helpers.js';

describe.each(ADAPTERS)('jwt edge cases over %s', (adapter) => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  async function app(options: Parameters<typeof createJwtApp>[0]) {
    const created = await createJwtApp(options);
    apps.push(created);
    return created;
  }

  it('a password change with a stateless bearer token ends only the other sessions and returns new tokens', async () => {
    const server = await app({ adapter, store: { type: 'memory' }, jwt: { revocation: 'stateless' } });
    const current = await tokenLogin(server);
    const other = await tokenLogin(server);

    const changed = await http(server).post('/probe/password-changed').set('Authorization', `Bearer ${current.accessToken}`);

    expect(changed.status).toBe(201);
    expect(changed.body.revoked).toBe(1);
    expect(typeof changed.body.refreshToken).toBe('string');
    expect(await refreshStatus(server, other.refreshToken)).toBe(401);
    expect(await refreshStatus(server, current.refreshToken)).toBe(401); // rotated away
    expect(await refreshStatus(server, changed.body.refreshToken)).toBe(200);
  });

  it('lists sessions with the current one flagged for a stateless bearer token', async () => {
    const server = await app({ adapter, store: { type: 'memory' }, jwt: { revocation: 'stateless' } });
    const current = await tokenLogin(server);
    await tokenLogin(server);
    const list = await http(server).get('/auth/sessions').set('Authorization', `Bearer ${current.accessToken}`).expect(200);
    expect(list.body).toHaveLength(2);
    expect(list.body.filter((entry: { current: boolean }) => entry.current)).toHaveLength(1);
  });

  it('logout with an expired access token ends the family when the current refresh token is sent', async () => {
    const server = await app({ adapter, store: { type: 'memory' }, jwt: { accessTokenTtl: '1s' } });
    const login = await tokenLogin(server);
    await sleep(1_100);
    expect(await bearerStatus(server, login.accessToken)).toBe(401);

    await http(server)
      .post('/auth/logout')
      .set('Authorization', `Bearer ${login.accessToken}`)
      .send({ refreshToken: login.refreshToken })
      .expect(204);

    expect(await refreshStatus(server, login.refreshToken)).toBe(401);
  });

  it('logout with a refresh token that is not the current one ends nothing', async () => {
    const server = await app({ adapter, store: { type: 'memory' } });
    const login = await tokenLogin(server);
    const forged = `${login.refreshToken.slice(0, -4)}AAAA`;
    await http(server).post('/auth/logout').send({ refreshToken: forged }).expect(204);
    await http(server).post('/auth/logout').send({ refreshToken: 'not-a-token' }).expect(204);
    expect(await refreshStatus(server, login.refreshToken)).toBe(200);
  });

  it('in hybrid mode a Basic Authorization header (from a proxy) does not hide the session cookie', async () => {
    const server = await app({ adapter, store: { type: 'memory' }, mode: 'hybrid' });
    const login = await tokenLogin(server);
    const cookie = sessionCookieFrom(login.response);
    const basic = `Basic ${Buffer.from('staging:password').toString('base64')}`;
    await http(server).get('/probe/guarded').set('Cookie', cookie).set('Authorization', basic).expect(200);
    const any = await http(server).get('/probe/any').set('Cookie', cookie).set('Authorization', basic).expect(200);
    expect(any.body.via).toBe('cookie');
  });

  it('refuses a refresh request carrying two refresh cookies (one planted) and keeps the real token usable', async () => {
    const server = await app({ adapter, store: { type: 'memory' }, jwt: { refreshTokenTransport: 'cookie' } });
    const login = await tokenLogin(server);
    const real = sessionCookieFrom(login.response, 'rt');
    const attacker = await tokenLogin(server, 'root');
    const planted = sessionCookieFrom(attacker.response, 'rt');

    await http(server).post('/auth/refresh').set('Cookie', `${planted}; ${real}`).expect(401);
    await http(server).post('/auth/refresh').set('Cookie', real).expect(200);
  });
});

describe.each(ADAPTERS)('the refresh route in session mode over %s', (adapter) => {
  it('answers 401, not 500: session mode issues no refresh tokens', async () => {
    const server = await createTestApp({ adapter });
    try {
      const response = await refreshWith(server, 'a'.repeat(100));
      expect(response.status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
