/**
 * The refresh cookie follows the built-in routes: with `routes: { prefix }` its default path is
 * that prefix, so the browser sends it to the refresh and logout routes that are really mounted.
 */
import type { INestApplication } from '@nestjs/common';
import { BrowserCookies } from './support/browser-cookies.js';
import { http } from './support/http-helpers.js';
import { TEST_KEYS } from './support/jwt-helpers.js';
import { ADAPTERS, createTestApp, type AdapterName } from './support/test-app.js';

describe.each(ADAPTERS)('the refresh cookie under routes: { prefix } over %s', (adapter: AdapterName) => {
  let app: INestApplication;

  beforeEach(async () => {
    app = await createTestApp({
      adapter,
      routes: { prefix: 'account' },
      session: { mode: 'jwt', jwt: { keys: [TEST_KEYS.hs1], refreshTokenTransport: 'cookie' } },
    });
  });

  afterEach(async () => {
    await app?.close();
  });

  it('is scoped to the prefix, refreshes there and dies with the logout there', async () => {
    const jar = new BrowserCookies();
    const login = await http(app).post('/account/login').send({ username: 'alice', password: 'alice-password' }).expect(200);
    jar.store(login, '/account/login');
    expect(String(login.headers['set-cookie'])).toMatch(/rt=[^;]+;.*Path=\/account(;|$)/);

    const refreshed = await http(app).post('/account/refresh').set('Cookie', jar.header('/account/refresh')).expect(200);
    jar.store(refreshed, '/account/refresh');

    await http(app).post('/account/logout').set('Cookie', jar.header('/account/logout')).expect(204);
    await http(app).post('/account/refresh').set('Cookie', jar.header('/account/refresh')).expect(401);
  });
});
