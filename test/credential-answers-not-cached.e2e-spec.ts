/**
 * SECURITY row 21, extended to every answer that depends on the credential: `GET /auth/me`,
 * `GET /auth/sessions` and any guarded route say `Cache-Control: no-store` and
 * `Vary: Cookie, Authorization`, their 401s included, and a conditional request never gets a
 * 304 for them (a browser once showed a previous user's /auth/me from its cache).
 */
import { Module, type INestApplication, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import type { Response } from 'supertest';
import { ADAPTERS, createTestApp } from './support/test-app.js';
import { http, login } from './support/http-helpers.js';
import { createJwtApp, tokenLogin } from './support/jwt-helpers.js';

function expectNotCacheable(response: Response): void {
  expect(response.headers['cache-control']).toBe('no-store');
  const vary = String(response.headers.vary ?? '').toLowerCase().split(/\s*,\s*/);
  expect(vary).toEqual(expect.arrayContaining(['cookie', 'authorization']));
}

/** What a CORS middleware does: `Vary: Origin`, set before any guard runs. */
@Module({})
class VaryOriginModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply((_request: unknown, response: { setHeader(name: string, value: string): void }, next: () => void) => {
        response.setHeader('Vary', 'Origin');
        next();
      })
      .forRoutes('auth/me');
  }
}

describe.each(ADAPTERS)('answers that depend on the credential over %s', (adapter) => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  async function app() {
    const created = await createTestApp({ adapter });
    apps.push(created);
    return created;
  }

  it.each(['/auth/me', '/auth/sessions', '/probe/guarded'])('GET %s says no-store and Vary: Cookie, Authorization', async (path) => {
    const server = await app();
    const { cookie } = await login(server, 'alice');
    const response = await http(server).get(path).set('Cookie', cookie).expect(200);
    expectNotCacheable(response);
  });

  it('a 401 from the auth guards says no-store too, with or without a cookie', async () => {
    const server = await app();
    expectNotCacheable(await http(server).get('/auth/me').expect(401));
    expectNotCacheable(await http(server).get('/auth/sessions').set('Cookie', 'sid=forged.value.here').expect(401));
  });

  it('never answers 304 to a conditional request, whatever validator the client sends', async () => {
    const server = await app();
    const { cookie } = await login(server, 'alice');
    for (const path of ['/auth/me', '/auth/sessions']) {
      const first = await http(server).get(path).set('Cookie', cookie).expect(200);
      const validators = [first.headers.etag as string | undefined, '*'].filter((value): value is string => value !== undefined);
      for (const etag of validators) {
        const again = await http(server).get(path).set('Cookie', cookie).set('If-None-Match', etag);
        expect({ path, etag, status: again.status }).toEqual({ path, etag, status: 200 });
        expect(again.body).toEqual(first.body);
        expectNotCacheable(again);
      }
      const since = await http(server).get(path).set('Cookie', cookie).set('If-Modified-Since', new Date(Date.now() + 60_000).toUTCString());
      expect(since.status).toBe(200);
    }
  });

  it('keeps a Vary the app set before the guard and adds the credential headers to it', async () => {
    const server = await createTestApp({ adapter, imports: [VaryOriginModule] });
    apps.push(server);
    const { cookie } = await login(server, 'alice');
    const response = await http(server).get('/auth/me').set('Cookie', cookie).expect(200);
    expect(String(response.headers.vary).toLowerCase().split(/\s*,\s*/)).toEqual(['origin', 'cookie', 'authorization']);
  });

  it('says no-store to bearer-authenticated answers in jwt mode', async () => {
    const server = await createJwtApp({ adapter, store: { type: 'memory' } });
    apps.push(server);
    const { accessToken } = await tokenLogin(server);
    expectNotCacheable(await http(server).get('/auth/me').set('Authorization', `Bearer ${accessToken}`).expect(200));
    expectNotCacheable(await http(server).get('/auth/me').set('Authorization', 'Bearer nope').expect(401));
  });

  it('leaves public routes that read no credential cacheable', async () => {
    const server = await app();
    const response = await http(server).get('/probe/public').expect(200);
    expect(response.headers['cache-control']).toBeUndefined();
  });
});
