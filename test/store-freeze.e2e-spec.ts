/**
 * A Redis that stops answering without closing the connection (a frozen server, a stalled
 * link): every route that touches the store, the login throttle included, answers 503 with
 * Retry-After within operationTimeoutMs, and the outage is logged once when it starts and once
 * when it ends, not once per request.
 */
import type { INestApplication, LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import request from 'supertest';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, createTestApp, sessionCookieFrom } from './support/test-app.js';

const OPERATION_TIMEOUT_MS = 500;
/** Generous: the machine is shared, and the point is "bounded", not "fast". */
const ANSWER_WITHIN_MS = OPERATION_TIMEOUT_MS + 1_500;
/** Far beyond the bound: a request that takes this long was waiting for Redis. */
const HANG_MS = 6_000;
const CREDENTIALS = { username: 'alice', password: 'alice-password' };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Keeps every Nest log line with its context. */
class CapturingLogger implements LoggerService {
  readonly lines: Array<{ level: string; context: string | undefined; message: string }> = [];
  private keep(level: string, message: unknown, params: unknown[]): void {
    const context = params.length > 0 && typeof params[params.length - 1] === 'string' ? (params[params.length - 1] as string) : undefined;
    this.lines.push({ level, context, message: String(message) });
  }
  log(message: unknown, ...params: unknown[]): void {
    this.keep('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.keep('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.keep('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.keep('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.keep('verbose', message, params);
  }
  about(pattern: RegExp) {
    return this.lines.filter((line) => pattern.test(line.message));
  }
}

describe.each(ADAPTERS)('when the Redis session store freezes and thaws (%s)', (adapter) => {
  let server: RedisServerHandle;
  let pid: number;
  let app: INestApplication;
  let cookie: string;
  const logger = new CapturingLogger();
  let frozen = false;

  const freeze = () => {
    process.kill(pid, 'SIGSTOP');
    frozen = true;
  };
  const thaw = () => {
    if (frozen) process.kill(pid, 'SIGCONT');
    frozen = false;
  };

  async function timed(send: () => request.Test): Promise<{ status: number; retryAfter: unknown; elapsed: number }> {
    const started = Date.now();
    try {
      const res = await send().timeout(HANG_MS);
      return { status: res.status, retryAfter: res.headers['retry-after'], elapsed: Date.now() - started };
    } catch {
      return { status: 0, retryAfter: undefined, elapsed: Date.now() - started }; // hung until the client gave up
    }
  }

  beforeAll(async () => {
    server = await startRedisServer();
    const inspector = new Redis(server.url);
    pid = Number(/process_id:(\d+)/.exec(await inspector.info('server'))![1]);
    await inspector.quit();
    app = await createTestApp({
      adapter,
      logger,
      session: { store: { type: 'redis', url: server.url, operationTimeoutMs: OPERATION_TIMEOUT_MS } },
    });
    const login = await request(app.getHttpServer()).post('/auth/login').send(CREDENTIALS).expect(200);
    cookie = sessionCookieFrom(login);
  });

  afterAll(async () => {
    thaw();
    await app?.close();
    await server?.stop();
  });

  it('answers login and /auth/me with 503 and Retry-After within the bound, every time, while Redis is frozen', async () => {
    freeze();
    try {
      const expectBounded = (answer: { status: number; retryAfter: unknown; elapsed: number }) => {
        expect({ status: answer.status, retryAfter: answer.retryAfter }).toEqual({ status: 503, retryAfter: expect.stringMatching(/^[1-9]\d*$/) });
        expect(answer.elapsed).toBeLessThan(ANSWER_WITHIN_MS);
      };
      for (let round = 0; round < 4; round++) {
        expectBounded(await timed(() => request(app.getHttpServer()).post('/auth/login').send(CREDENTIALS)));
        expectBounded(await timed(() => request(app.getHttpServer()).get('/auth/me').set('Cookie', cookie)));
      }
      // And several at once.
      const together = await Promise.all([
        timed(() => request(app.getHttpServer()).post('/auth/login').send(CREDENTIALS)),
        timed(() => request(app.getHttpServer()).post('/auth/login').send({ username: 'root', password: 'wrong' })),
        timed(() => request(app.getHttpServer()).get('/auth/sessions').set('Cookie', cookie)),
      ]);
      together.forEach(expectBounded);
    } finally {
      thaw();
    }
  });

  it('logged the outage once, with its reason, and logs the recovery once when Redis answers again', async () => {
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await request(app.getHttpServer()).get('/auth/me').set('Cookie', cookie)).status;
      if (status === 200) break;
      await sleep(200);
    }
    expect(status).toBe(200);
    await request(app.getHttpServer()).post('/auth/login').send(CREDENTIALS).expect(200);
    await request(app.getHttpServer()).get('/auth/me').set('Cookie', cookie).expect(200);

    const unavailable = logger.about(/unavailable/i);
    expect(unavailable).toEqual([{ level: 'error', context: 'SessionModule', message: expect.stringMatching(/no answer within 500 ms/) }]);
    expect(logger.about(/reachable again|recovered/i)).toEqual([{ level: 'log', context: 'SessionModule', message: expect.any(String) }]);
    expect(logger.lines.indexOf(unavailable[0])).toBeLessThan(logger.lines.indexOf(logger.about(/reachable again/i)[0]));
  });
});
