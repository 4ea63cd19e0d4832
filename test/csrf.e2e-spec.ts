/**
 * SECURITY row 22: cookie-authenticated unsafe requests from another site are refused (Fetch
 * Metadata, then Origin); bearer tokens and non-browser clients are unaffected; no state
 * changes on GET.
 */
import type { INestApplication } from '@nestjs/common';
import { ADAPTERS, createTestApp } from './support/test-app.js';
import { http, login, meStatus } from './support/http-helpers.js';
import { createJwtApp, tokenLogin } from './support/jwt-helpers.js';

describe.each(ADAPTERS)('cross-site request refusal over %s', (adapter) => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  async function app(session: Parameters<typeof createTestApp>[0]['session'] = {}, trustProxy = false) {
    const created = await createTestApp({ adapter, session, trustProxy });
    apps.push(created);
    return created;
  }
  const put = (server: INestApplication, cookie: string, headers: Record<string, string>) => {
    let req = http(server).put('/probe/data/k').set('Cookie', cookie);
    for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
    return req.send({ value: 1 });
  };

  it('refuses a cookie-authenticated PUT that the browser marks cross-site, and stores nothing', async () => {
    const server = await app();
    const { cookie } = await login(server, 'alice');
    const refused = await put(server, cookie, { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' });
    expect(refused.status).toBe(403);
    const data = await http(server).get('/probe/data').set('Cookie', cookie).expect(200);
    expect(data.body).toEqual({});
  });

  it('refuses a cookie-authenticated PUT whose Origin is another host when Fetch Metadata is missing', async () => {
    const server = await app();
    const { cookie } = await login(server, 'alice');
    expect((await put(server, cookie, { Origin: 'https://evil.example' })).status).toBe(403);
  });

  it('accepts same-origin requests and requests with neither header (non-browser clients)', async () => {
    const server = await app();
    const { cookie } = await login(server, 'alice');
    expect((await put(server, cookie, { 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200);
    expect((await put(server, cookie, {})).status).toBe(200);
  });

  it('accepts a configured allowed origin', async () => {
    const server = await app({ csrf: { allowedOrigins: ['https://spa.example.com'] } });
    const { cookie } = await login(server, 'alice');
    expect((await put(server, cookie, { 'Sec-Fetch-Site': 'same-site', Origin: 'https://spa.example.com' })).status).toBe(200);
    expect((await put(server, cookie, { 'Sec-Fetch-Site': 'same-site', Origin: 'https://evil.example.com' })).status).toBe(403);
  });

  it('compares the scheme of Origin with the request’s: an http:// page cannot post to the https app', async () => {
    const server = await app({}, true);
    const overHttps = { Host: 'app.example.com', 'X-Forwarded-Proto': 'https' };
    const secure = await login(server, 'alice', { headers: overHttps, cookieName: '__Host-sid' });
    expect((await put(server, secure.cookie, { ...overHttps, Origin: 'http://app.example.com' })).status).toBe(403);
    expect((await put(server, secure.cookie, { ...overHttps, Origin: 'https://app.example.com:8443' })).status).toBe(403);
    expect((await put(server, secure.cookie, { ...overHttps, Origin: 'https://app.example.com' })).status).toBe(200);
    const plain = await login(server, 'alice', { headers: { Host: 'app.example.com' } });
    expect((await put(server, plain.cookie, { Host: 'app.example.com', Origin: 'https://app.example.com' })).status).toBe(403);
    expect((await put(server, plain.cookie, { Host: 'app.example.com', Origin: 'http://app.example.com' })).status).toBe(200);
  });

  it.each([
    ['same-site', { 'Sec-Fetch-Site': 'same-site', Origin: 'https://sibling.example.com' }],
    ['cross-site', { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' }],
    ['cross-origin without Fetch Metadata', { Origin: 'https://evil.example' }],
  ])('refuses a forced logout (%s, text/plain form post) with 403, and the session lives on', async (_name, headers) => {
    const server = await app();
    const { cookie } = await login(server, 'alice');
    let req = http(server).post('/auth/logout').set('Cookie', cookie).set('Content-Type', 'text/plain');
    for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
    const refused = await req.send('x');
    expect(refused.status).toBe(403);
    expect(refused.headers['set-cookie']).toBeUndefined();
    expect(await meStatus(server, cookie)).toBe(200);
  });

  it('logs out a same-origin request and one with neither header', async () => {
    const server = await app();
    const first = await login(server, 'alice');
    await http(server).post('/auth/logout').set('Cookie', first.cookie).set('Sec-Fetch-Site', 'same-origin').expect(204);
    expect(await meStatus(server, first.cookie)).toBe(401);
    const second = await login(server, 'alice');
    await http(server).post('/auth/logout').set('Cookie', second.cookie).expect(204);
    expect(await meStatus(server, second.cookie)).toBe(401);
  });

  it('lets a cross-site bearer logout through: without cookies there is nothing to forge', async () => {
    const server = await createJwtApp({ adapter, store: { type: 'memory' } });
    apps.push(server);
    const { accessToken } = await tokenLogin(server);
    await http(server).post('/auth/logout').set('Authorization', `Bearer ${accessToken}`).set('Sec-Fetch-Site', 'cross-site').expect(204);
    await http(server).get('/auth/me').set('Authorization', `Bearer ${accessToken}`).expect(401);
  });

  it('allows cross-site GET (safe, changes nothing) with the cookie', async () => {
    const server = await app();
    const { cookie } = await login(server, 'alice');
    await http(server).get('/probe/guarded').set('Cookie', cookie).set('Sec-Fetch-Site', 'cross-site').expect(200);
  });

  it('refuses login CSRF: a cross-site login form post gets 403 and no session', async () => {
    const server = await app();
    const response = await http(server)
      .post('/auth/login')
      .set('Sec-Fetch-Site', 'cross-site')
      .set('Origin', 'https://evil.example')
      .send({ username: 'alice', password: 'alice-password' });
    expect(response.status).toBe(403);
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('refuses cross-site login in jwt mode when the refresh token would be set as a cookie', async () => {
    const server = await createJwtApp({ adapter, store: { type: 'memory' }, jwt: { refreshTokenTransport: 'cookie' } });
    apps.push(server);
    const response = await http(server)
      .post('/auth/login')
      .set('Sec-Fetch-Site', 'cross-site')
      .send({ username: 'alice', password: 'alice-password' });
    expect(response.status).toBe(403);
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a refresh by cookie from another page, same-site included, so no page can rotate or end the family', async () => {
    const server = await createJwtApp({ adapter, store: { type: 'memory' }, jwt: { refreshTokenTransport: 'cookie' } });
    apps.push(server);
    const { response } = await tokenLogin(server);
    const refreshCookie = String(response.headers['set-cookie']).match(/rt=[^;]+/)?.[0];
    expect(refreshCookie).toBeDefined();
    // SameSite=Strict lets a sibling subdomain's request carry the cookie: two at once would end the family as a reuse.
    const forged = () => http(server).post('/auth/refresh').set('Cookie', refreshCookie!).set('Sec-Fetch-Site', 'same-site');
    const answers = await Promise.all([forged(), forged(), http(server).post('/auth/refresh').set('Cookie', refreshCookie!).set('Origin', 'https://evil.example')]);
    expect(answers.map((answer) => answer.status)).toEqual([403, 403, 403]);
    expect(answers.every((answer) => answer.headers['set-cookie'] === undefined)).toBe(true);
    // The family is untouched: the app's own page still refreshes with the same cookie.
    await http(server).post('/auth/refresh').set('Cookie', refreshCookie!).set('Sec-Fetch-Site', 'same-origin').expect(200);
  });

  it('does not apply to bearer tokens, which browsers never attach on their own', async () => {
    const server = await createJwtApp({ adapter, store: { type: 'memory' } });
    apps.push(server);
    const { accessToken } = await tokenLogin(server);
    await http(server)
      .post('/probe/password-changed')
      .set('Authorization', `Bearer ${accessToken}`)
      .set('Sec-Fetch-Site', 'cross-site')
      .expect(201);
  });

  it('can be turned off with csrf: false', async () => {
    const server = await app({ csrf: false });
    const { cookie } = await login(server, 'alice');
    expect((await put(server, cookie, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(200);
  });

  it.each([[['https://spa.example.com/']], [['spa.example.com']], ['https://spa.example.com']])(
    'fails at boot on csrf.allowedOrigins %j',
    async (allowedOrigins) => {
      await expect(createTestApp({ adapter, session: { csrf: { allowedOrigins: allowedOrigins as string[] } } })).rejects.toThrow(
        'csrf.allowedOrigins',
      );
    },
  );
});
