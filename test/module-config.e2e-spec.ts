import 'reflect-metadata';
import { Controller, Get, Inject, Injectable, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import {
  AuthenticatedGuard,
  AuthService,
  CurrentSession,
  CurrentUser,
  MemorySessionStore,
  RedisSessionStore,
  Session,
  SessionConfigurationError,
  SessionGuard,
  SessionModule,
  SessionStore,
  type AuthUser,
  type SessionInfo,
  type SessionModuleOptions,
  type SessionOptionsFactory,
} from '../src/index.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, createTestApp, sessionCookieFrom, startApp, TEST_SECRET, validateTestUser } from './support/test-app.js';

const ALICE = { username: 'alice', password: 'alice-password' };

async function login(app: INestApplication, path = '/auth/login'): Promise<string> {
  const response = await request(app.getHttpServer()).post(path).send(ALICE).expect(200);
  expect(response.body.user.id).toBe('u-alice');
  return sessionCookieFrom(response);
}

async function compileFailure(options: Record<string, unknown>): Promise<unknown> {
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRoot({ secret: TEST_SECRET, validateUser: validateTestUser, ...options } as SessionModuleOptions)],
    }).compile();
    await moduleRef.close();
  } catch (error) {
    return error;
  }
  throw new Error('the module compiled');
}

/** A ConfigModule-like provider from another module. */
const APP_CONFIG = Symbol('APP_CONFIG');
interface AppConfig {
  sessionSecret: string;
  idle: string;
}

@Module({
  providers: [{ provide: APP_CONFIG, useValue: { sessionSecret: TEST_SECRET, idle: '15m' } satisfies AppConfig }],
  exports: [APP_CONFIG],
})
class AppConfigModule {}

@Injectable()
class Greeter {
  greet(user: AuthUser): string {
    return `hello ${user.id}`;
  }
}

@Controller('feature')
class FeatureController {
  constructor(@Inject(Greeter) private readonly greeter: Greeter) {}

  @Get()
  @UseGuards(SessionGuard)
  hello(@CurrentUser() user: AuthUser): { message: string } {
    return { message: this.greeter.greet(user) };
  }
}

/** Does not import SessionModule. */
@Module({ controllers: [FeatureController], providers: [Greeter] })
class FeatureModule {}

@Controller('account')
@UseGuards(AuthenticatedGuard)
class AccountController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  @Get('sessions')
  sessions(@CurrentSession() session: Session): Promise<SessionInfo[]> {
    return this.auth.listSessions(session);
  }
}

/** Imports the bare SessionModule, as a feature module of an app whose root module called forRoot(). */
@Module({ imports: [SessionModule], controllers: [AccountController] })
class AccountModule {}

@Injectable()
class SessionConfigService implements SessionOptionsFactory {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  createSessionOptions(): SessionModuleOptions {
    return { secret: this.config.sessionSecret, validateUser: validateTestUser, idleTimeout: this.config.idle };
  }
}

@Module({ imports: [AppConfigModule], providers: [SessionConfigService], exports: [SessionConfigService] })
class SessionConfigModule {}

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

describe('SessionModule configuration errors', () => {
  it.each([
    ['a short secret', { secret: 'too-short' }, 'secret'],
    ['an absolute timeout shorter than the idle timeout', { idleTimeout: '1h', absoluteTimeout: '30m' }, 'absoluteTimeout'],
    ['an unknown mode', { mode: 'oauth' }, 'mode'],
    ['a misspelt option', { idleTimout: '1h' }, 'idleTimout'],
    ["sameSite 'none' without secure", { cookie: { sameSite: 'none' } }, 'cookie.sameSite'],
  ])('stop the app from compiling on %s, with a SessionConfigurationError naming the option', async (_label, options, option) => {
    const error = await compileFailure(options);
    expect(error).toBeInstanceOf(SessionConfigurationError);
    expect((error as SessionConfigurationError).option).toBe(option);
    expect((error as Error).message).toContain(`\`${option}\``);
  });

  it('stop forRootAsync from compiling when the factory returns a bad option', async () => {
    let error: unknown;
    try {
      await Test.createTestingModule({
        imports: [
          SessionModule.forRootAsync({
            imports: [AppConfigModule],
            inject: [APP_CONFIG],
            useFactory: (config: AppConfig) => ({ secret: config.sessionSecret.slice(0, 8), validateUser: validateTestUser }),
          }),
        ],
      }).compile();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SessionConfigurationError);
    expect((error as SessionConfigurationError).option).toBe('secret');
  });
});

describe.each(ADAPTERS)('SessionModule configuration over %s', (adapter) => {
  const apps: INestApplication[] = [];

  async function track(app: Promise<INestApplication>): Promise<INestApplication> {
    const started = await app;
    apps.push(started);
    return started;
  }

  afterEach(async () => {
    while (apps.length > 0) await apps.pop()!.close();
  });

  it('forRootAsync takes its options from a provider of another module and logs in over HTTP', async () => {
    const seen: AppConfig[] = [];
    const factory = (config: AppConfig) => {
      seen.push(config);
      return { secret: config.sessionSecret, validateUser: validateTestUser, idleTimeout: config.idle };
    };
    const moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRootAsync({ imports: [AppConfigModule], inject: [APP_CONFIG], useFactory: factory, routes: true })],
    }).compile();
    const app = await track(startApp(moduleRef, adapter));

    expect(seen).toEqual([{ sessionSecret: TEST_SECRET, idle: '15m' }]);
    const cookie = await login(app);
    const me = await request(app.getHttpServer()).get('/auth/me').set('Cookie', cookie).expect(200);
    expect(me.body.user).toMatchObject({ id: 'u-alice' });
    await request(app.getHttpServer()).get('/auth/me').expect(401);
  });

  it('lets a feature module that does not import SessionModule use its guard when isGlobal is true', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        SessionModule.forRoot({ secret: TEST_SECRET, validateUser: validateTestUser, isGlobal: true, routes: true }),
        FeatureModule,
      ],
    }).compile();
    const app = await track(startApp(moduleRef, adapter));

    await request(app.getHttpServer()).get('/feature').expect(401);
    const cookie = await login(app);
    const response = await request(app.getHttpServer()).get('/feature').set('Cookie', cookie).expect(200);
    expect(response.body).toEqual({ message: 'hello u-alice' });
  });

  it('mounts the built-in routes under a custom prefix and not under /auth', async () => {
    const app = await track(
      (async () => {
        const moduleRef = await Test.createTestingModule({
          imports: [SessionModule.forRoot({ secret: TEST_SECRET, validateUser: validateTestUser, routes: { prefix: 'account' } })],
        }).compile();
        return startApp(moduleRef, adapter);
      })(),
    );
    await request(app.getHttpServer()).post('/auth/login').send(ALICE).expect(404);
    const cookie = await login(app, '/account/login');
    await request(app.getHttpServer()).get('/account/me').set('Cookie', cookie).expect(200);
    await request(app.getHttpServer()).get('/auth/me').set('Cookie', cookie).expect(404);
  });

  it('mounts no built-in routes when routes are off', async () => {
    const app = await track(createTestApp({ adapter, routes: false }));
    await request(app.getHttpServer()).post('/auth/login').send(ALICE).expect(404);
    await request(app.getHttpServer()).get('/auth/me').expect(404);
    await request(app.getHttpServer()).get('/probe/public').expect(200);
  });

  it('uses a SessionStore instance passed as store, and leaves it open on shutdown', async () => {
    class WatchedStore extends MemorySessionStore {
      closed = 0;
      override async close(): Promise<void> {
        this.closed++;
        await super.close();
      }
    }
    const store = new WatchedStore();
    try {
      const app = await track(createTestApp({ adapter, session: { store } }));
      expect(app.get(SessionStore)).toBe(store);
      expect(store.size).toBe(0);
      const cookie = await login(app);
      expect(store.size).toBe(1);
      await request(app.getHttpServer()).post('/auth/logout').set('Cookie', cookie).expect(204);
      expect(store.size).toBe(0);
      await apps.pop()!.close();
      expect(store.closed).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('keeps an ioredis client the app passed in usable after app.close()', async () => {
    const client = new Redis(redis.url);
    try {
      const app = await track(createTestApp({ adapter, session: { store: { type: 'redis', client, keyPrefix: `given-${adapter}:` } } }));
      const cookie = await login(app);
      await request(app.getHttpServer()).get('/auth/me').set('Cookie', cookie).expect(200);
      expect((await client.keys(`given-${adapter}:*`)).length).toBeGreaterThan(0);

      await apps.pop()!.close();
      // Give a wrongly sent QUIT time to take effect before looking.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
    } finally {
      await client.quit();
    }
  });

  it('closes the Redis connection it opened from a url on app.close()', async () => {
    const admin = new Redis(redis.url);
    try {
      const clientCount = async () => (await admin.client('LIST') as string).trim().split('\n').length;
      const before = await clientCount();
      const app = await track(createTestApp({ adapter, session: { store: { type: 'redis', url: redis.url, keyPrefix: `owned-${adapter}:` } } }));
      await login(app);
      const store = app.get<RedisSessionStore>(SessionStore);
      expect(store).toBeInstanceOf(RedisSessionStore);
      expect(store.client.status).toBe('ready');
      expect(await clientCount()).toBe(before + 1);

      await apps.pop()!.close();
      // quit() resolves on Redis' OK; the socket closes right after.
      let after = await clientCount();
      for (let i = 0; i < 50 && (after !== before || store.client.status !== 'end'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        after = await clientCount();
      }
      expect(store.client.status).toBe('end');
      expect(after).toBe(before);
    } finally {
      await admin.quit();
    }
  });
});

describe.each(ADAPTERS)('SessionModule in feature modules over %s', (adapter) => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function boot(imports: Parameters<typeof Test.createTestingModule>[0]['imports']): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({ imports }).compile();
    app = await startApp(moduleRef, adapter);
    return app;
  }

  it('lets a feature module that does not import SessionModule use its guard without isGlobal', async () => {
    await boot([SessionModule.forRoot({ secret: TEST_SECRET, validateUser: validateTestUser, routes: true }), FeatureModule]);
    await request(app!.getHttpServer()).get('/feature').expect(401);
    const cookie = await login(app!);
    const response = await request(app!.getHttpServer()).get('/feature').set('Cookie', cookie).expect(200);
    expect(response.body).toEqual({ message: 'hello u-alice' });
  });

  it('lets a feature module import the bare SessionModule and inject AuthService, sharing the one store', async () => {
    await boot([SessionModule.forRoot({ secret: TEST_SECRET, validateUser: validateTestUser, routes: true }), AccountModule]);
    await request(app!.getHttpServer()).get('/account/sessions').expect(401);
    const cookie = await login(app!);
    const response = await request(app!.getHttpServer()).get('/account/sessions').set('Cookie', cookie).expect(200);
    expect(response.body).toHaveLength(1);
    expect(response.body[0]).toMatchObject({ current: true });
  });

  it('takes its options from forRootAsync({ useClass }) with the class built in the module', async () => {
    await boot([SessionModule.forRootAsync({ imports: [AppConfigModule], useClass: SessionConfigService, routes: true }), AccountModule]);
    const cookie = await login(app!);
    await request(app!.getHttpServer()).get('/account/sessions').set('Cookie', cookie).expect(200);
  });

  it('takes its options from forRootAsync({ useExisting }) with a provider another module exports', async () => {
    await boot([SessionModule.forRootAsync({ imports: [SessionConfigModule], useExisting: SessionConfigService, routes: true }), FeatureModule]);
    const cookie = await login(app!);
    await request(app!.getHttpServer()).get('/feature').set('Cookie', cookie).expect(200);
  });
});
