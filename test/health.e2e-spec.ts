/**
 * SessionStoreHealthIndicator under @nestjs/terminus on a real Redis: up (200) while Redis
 * answers; down (503) within the bound while it is frozen (SIGSTOP) or dead (SIGKILL); up again
 * once it answers, with no restart of the app. Stores without `ping` are checked by a read.
 */
import { Controller, Get, Inject, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { MemorySessionStore, SessionStoreHealthIndicator } from '../src/index.js';
import { http, uniqueKeyPrefix } from './support/http-helpers.js';
import { eventually, redisPid } from './support/redis-process.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, createTestApp } from './support/test-app.js';

const HEALTH_TIMEOUT_MS = 300;
/** Generous: the machine is shared; the point is that a stopped Redis cannot hold the answer. */
const ANSWER_WITHIN_MS = HEALTH_TIMEOUT_MS + 1_000;

@Controller('health')
class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(SessionStoreHealthIndicator) private readonly sessionStore: SessionStoreHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.sessionStore.isHealthy('session-store', { timeoutMs: HEALTH_TIMEOUT_MS })]);
  }
}

async function timedHealth(app: INestApplication): Promise<{ status: number; store: unknown; elapsed: number }> {
  const started = Date.now();
  const res = await http(app).get('/health').timeout(5_000);
  const body = res.body as { details?: Record<string, unknown> };
  return { status: res.status, store: body.details?.['session-store'], elapsed: Date.now() - started };
}

describe.each(ADAPTERS)('the session store health check on Redis (%s)', (adapter) => {
  let server: RedisServerHandle;
  let app: INestApplication;
  let pid: number;

  const readPid = async () => {
    pid = await redisPid(server.url);
  };

  beforeAll(async () => {
    server = await startRedisServer();
    await readPid();
    app = await createTestApp({
      adapter,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      session: { store: { type: 'redis', url: server.url, keyPrefix: uniqueKeyPrefix('health') } },
    });
  });
  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  it('is up while Redis answers', async () => {
    expect(await timedHealth(app)).toMatchObject({ status: 200, store: { status: 'up' } });
  });

  it('is down within the bound while Redis is frozen, and up again when it thaws', async () => {
    process.kill(pid, 'SIGSTOP');
    try {
      const answer = await timedHealth(app);
      expect(answer).toMatchObject({ status: 503, store: { status: 'down', message: expect.stringContaining('no answer within 300 ms') } });
      expect(answer.elapsed).toBeLessThan(ANSWER_WITHIN_MS);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(await timedHealth(app)).toMatchObject({ status: 200, store: { status: 'up' } });
  });

  it('is down within the bound while Redis is dead, and up again after it restarts', async () => {
    process.kill(pid, 'SIGKILL');
    try {
      const answer = await timedHealth(app);
      expect(answer).toMatchObject({ status: 503, store: { status: 'down' } });
      expect(answer.elapsed).toBeLessThan(ANSWER_WITHIN_MS);
    } finally {
      await server.restart();
      await readPid();
    }
    const answer = await eventually(() => timedHealth(app), (health) => health.status === 200);
    expect(answer).toMatchObject({ status: 200, store: { status: 'up' } });
  });
});

describe('the session store health check on other stores', () => {
  it('is up on the memory store, and works without TerminusModule imported', async () => {
    const app = await createTestApp({ adapter: 'express' });
    try {
      await expect(app.get(SessionStoreHealthIndicator).isHealthy()).resolves.toEqual({ 'session-store': { status: 'up' } });
    } finally {
      await app.close();
    }
  });

  it('checks a store without ping by reading a session that does not exist', async () => {
    const store = new MemorySessionStore();
    const reads: unknown[] = [];
    const read = store.read.bind(store);
    const pingless = Object.assign(store, { ping: undefined, read: (...args: Parameters<typeof read>) => (reads.push(args[0]), read(...args)) });
    const app = await createTestApp({ adapter: 'express', session: { store: pingless } });
    try {
      await expect(app.get(SessionStoreHealthIndicator).isHealthy('sessions')).resolves.toEqual({ sessions: { status: 'up' } });
      expect(reads).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});
