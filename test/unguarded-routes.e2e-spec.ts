/**
 * A route the module takes no part in (no auth guard, no `@CurrentSession()`) runs as it would in
 * an app without SessionModule: the module registers no global interceptor and no middleware.
 * The core's errors still get the module's answers on such routes (a global exception filter):
 * an unguarded admin route calling `AuthService.revokeAllSessions()` while Redis is down is a 503
 * with Retry-After, and `AuthService.refresh()` with a forged token is a 401, on Express and Fastify.
 */
import { Body, Controller, Get, Inject, Module, Post, Req, Res, type INestApplication } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AuthService, SessionModule } from '../src/index.js';
import { TEST_KEYS } from './support/jwt-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, createTestApp, startApp, TEST_SECRET, validateTestUser } from './support/test-app.js';

@Controller('plain')
class PlainController {
  @Get()
  plain(): { ok: true } {
    return { ok: true };
  }
}

@Controller('tokens')
class RefreshController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  /** An app's own refresh route, without any of the module's guards or decorators. */
  @Post('refresh')
  refresh(@Body() body: { refreshToken?: unknown }, @Req() req: object, @Res({ passthrough: true }) res: object) {
    return this.auth.refresh(body?.refreshToken, { request: req, response: res });
  }
}

/** What an Express app's router runs for every request: its middleware layers (Nest's routes are layers too). */
function expressLayers(app: INestApplication): string[] {
  const instance = app.getHttpAdapter().getInstance() as { router: { stack: Array<{ name: string; route?: { path: string } }> } };
  return instance.router.stack.map((layer) => layer.route?.path ?? layer.name);
}

describe.each(ADAPTERS)('routes the module does not guard (%s)', (adapter) => {
  let server: RedisServerHandle;
  let app: INestApplication;

  beforeAll(async () => {
    server = await startRedisServer();
    app = await createTestApp({
      adapter,
      session: { store: { type: 'redis', url: server.url, operationTimeoutMs: 500 }, mode: 'hybrid', jwt: { keys: [TEST_KEYS.hs1] } },
      controllers: [PlainController, RefreshController],
    });
  });

  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  it('leaves no global interceptor, so a handler without the module runs in Nest with nothing around it', () => {
    expect(app.get(ApplicationConfig).getGlobalInterceptors()).toEqual([]);
    expect(app.get(ApplicationConfig).getGlobalRequestInterceptors()).toEqual([]);
  });

  it('answers an unguarded admin route with 503 and Retry-After while Redis is down, and with 201 once it is back', async () => {
    await server.stop();
    try {
      const down = await request(app.getHttpServer()).post('/probe/disable/u-alice');
      expect({ status: down.status, retryAfter: down.headers['retry-after'] }).toEqual({ status: 503, retryAfter: '5' });
      expect(down.body).toEqual({ statusCode: 503, message: 'Sessions are temporarily unavailable; retry shortly.', error: 'Service Unavailable' });
    } finally {
      await server.restart();
    }
    await waitForStore(app);
  });

  it("answers an app's own unguarded refresh route with a forged token with 401, never 500", async () => {
    const forged = await request(app.getHttpServer()).post('/tokens/refresh').send({ refreshToken: 'x'.repeat(80) });
    expect({ status: forged.status, body: forged.body }).toEqual({ status: 401, body: { statusCode: 401, message: 'Unauthorized' } });
  });

  it('sets no caching headers on a route that never reads a credential', async () => {
    const plain = await request(app.getHttpServer()).get('/plain').set('Cookie', 'sid=whatever').expect(200);
    expect(plain.headers['cache-control']).toBeUndefined();
    expect(plain.headers.vary ?? '').not.toMatch(/cookie/i);
  });
});

describe('the Express middleware stack with and without SessionModule', () => {
  it('is the same: the module mounts no middleware of its own', async () => {
    @Module({ controllers: [PlainController] })
    class WithoutModule {}
    @Module({ imports: [SessionModule.forRoot({ secret: TEST_SECRET, validateUser: validateTestUser })], controllers: [PlainController] })
    class WithModule {}
    const apps = await Promise.all([WithoutModule, WithModule].map(async (root) => startApp(await Test.createTestingModule({ imports: [root] }).compile(), 'express')));
    try {
      const [without, withModule] = apps.map(expressLayers);
      expect(withModule).toEqual(without);
    } finally {
      await Promise.all(apps.map((one) => one.close()));
    }
  });
});

/** The app's Redis client reconnects on its own: wait until an admin call succeeds again. */
async function waitForStore(app: INestApplication): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await request(app.getHttpServer()).post('/probe/disable/u-alice');
    if (answer.status === 201) return;
    if (Date.now() > deadline) throw new Error(`the store did not come back: last answer ${answer.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
