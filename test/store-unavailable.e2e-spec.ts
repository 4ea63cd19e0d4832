/**
 * `storeUnavailable: 'accept-stateless'` on a real Redis that freezes (SIGSTOP) and dies
 * (SIGKILL): valid access tokens keep working until their `exp`, after one bounded attempt at
 * the revocation check; forged and expired tokens are still refused; everything that needs the
 * store (login, refresh, logout, session lists and writes, cookie sessions) answers 503 with
 * Retry-After. The documented cost is shown too: a token revoked before the outage is accepted
 * during it, and refused again once Redis answers. With the default (`'reject'`), a valid token
 * gets 503 like everything else.
 */
import { createHmac } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type request from 'supertest';
import { createJwtApp, refreshWith, TEST_KEYS, tokenLogin, withBearer, type TokenLogin } from './support/jwt-helpers.js';
import { http, uniqueKeyPrefix } from './support/http-helpers.js';
import { eventually, redisPid } from './support/redis-process.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { sessionCookieFrom, type AdapterName } from './support/test-app.js';

const OPERATION_TIMEOUT_MS = 300;
/** Generous: the machine is shared, and the point is "bounded", not "fast". */
const ANSWER_WITHIN_MS = OPERATION_TIMEOUT_MS + 1_500;
const HANG_MS = 6_000;

interface Answer {
  status: number;
  retryAfter: unknown;
  elapsed: number;
}

async function timed(send: () => request.Test): Promise<Answer> {
  const started = Date.now();
  try {
    const res = await send().timeout(HANG_MS);
    return { status: res.status, retryAfter: res.headers['retry-after'], elapsed: Date.now() - started };
  } catch {
    return { status: 0, retryAfter: undefined, elapsed: Date.now() - started };
  }
}

const unavailable = { status: 503, retryAfter: expect.stringMatching(/^[1-9]\d*$/) };
const shape = ({ status, retryAfter }: Answer) => (status === 503 ? { status, retryAfter } : { status });

/** The access token re-signed with the server's key, its `exp` in the past: valid in every way but time. */
function expiredCopy(accessToken: string): string {
  const [header, payload] = accessToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  const body = Buffer.from(JSON.stringify({ ...claims, iat: now - 120, exp: now - 60 })).toString('base64url');
  const signature = createHmac('sha256', TEST_KEYS.hs1.secret).update(`${header}.${body}`).digest('base64url');
  return `${header}.${body}.${signature}`;
}

describe.each<[AdapterName, 'jwt' | 'hybrid']>([
  ['express', 'jwt'],
  ['fastify', 'hybrid'],
])("storeUnavailable 'accept-stateless' over %s in %s mode", (adapter, mode) => {
  let server: RedisServerHandle;
  let pid: number;
  let app: INestApplication;
  let live: TokenLogin;
  let revoked: TokenLogin;
  let frozen = false;

  const thaw = () => {
    if (frozen) process.kill(pid, 'SIGCONT');
    frozen = false;
  };

  beforeAll(async () => {
    server = await startRedisServer();
    pid = await redisPid(server.url);
    app = await createJwtApp({
      adapter,
      mode,
      store: { type: 'redis', url: server.url, keyPrefix: uniqueKeyPrefix('unavail'), operationTimeoutMs: OPERATION_TIMEOUT_MS },
      session: { storeUnavailable: 'accept-stateless' },
    });
    live = await tokenLogin(app, 'alice');
    revoked = await tokenLogin(app, 'root');
    await withBearer(app, '/probe/bearer', revoked.accessToken).expect(200);
    await http(app).post('/auth/logout').set('Authorization', `Bearer ${revoked.accessToken}`).expect(204);
  });

  afterAll(async () => {
    thaw();
    await app?.close();
    await server?.stop();
  });

  /** Everything the outage must and must not allow, each answer within the bound. */
  async function duringOutage(): Promise<void> {
    const bearer = (token: string) => timed(() => withBearer(app, '/probe/bearer', token));
    const answers = {
      valid: await bearer(live.accessToken),
      // The documented cost: revoked before the outage, and the check that would say so cannot be made.
      revokedBeforeOutage: await bearer(revoked.accessToken),
      forged: await bearer(`${live.accessToken.slice(0, -2)}${live.accessToken.endsWith('AA') ? 'BB' : 'AA'}`),
      expired: await bearer(expiredCopy(live.accessToken)),
      login: await timed(() => http(app).post('/auth/login').send({ username: 'alice', password: 'alice-password' })),
      refresh: await timed(() => refreshWith(app, live.refreshToken || 'x')),
      logout: await timed(() => http(app).post('/auth/logout').set('Authorization', `Bearer ${live.accessToken}`)),
      sessions: await timed(() => http(app).get('/auth/sessions').set('Authorization', `Bearer ${live.accessToken}`)),
      rotate: await timed(() => http(app).post('/jwt-probe/promote').set('Authorization', `Bearer ${live.accessToken}`)),
      ...(mode === 'hybrid' && { cookie: await timed(() => http(app).get('/auth/me').set('Cookie', sessionCookieFrom(live.response))) }),
    };
    expect(Object.fromEntries(Object.entries(answers).map(([name, answer]) => [name, shape(answer)]))).toEqual({
      valid: { status: 200 },
      revokedBeforeOutage: { status: 200 },
      forged: { status: 401 },
      expired: { status: 401 },
      login: unavailable,
      refresh: unavailable,
      logout: unavailable,
      sessions: unavailable,
      rotate: unavailable,
      ...(mode === 'hybrid' && { cookie: unavailable }),
    });
    for (const [name, answer] of Object.entries(answers)) expect({ name, within: answer.elapsed < ANSWER_WITHIN_MS }).toEqual({ name, within: true });
    // And several bearer requests at once.
    const together = await Promise.all([1, 2, 3, 4].map(() => bearer(live.accessToken)));
    expect(together.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
  }

  it('accepts valid tokens and refuses the rest while Redis is frozen (SIGSTOP)', async () => {
    process.kill(pid, 'SIGSTOP');
    frozen = true;
    try {
      await duringOutage();
    } finally {
      thaw();
    }
  });

  it('checks revocation again once Redis answers: the revoked token is refused, a new login works', async () => {
    await withBearer(app, '/probe/bearer', revoked.accessToken).expect(401);
    // Commands sent to the frozen Redis (the logout and rotation above) ran when it thawed, so
    // the outage's token may be gone: a new one stands in for it.
    live = await tokenLogin(app, 'alice');
    await withBearer(app, '/probe/bearer', live.accessToken).expect(200);
  });

  it('accepts valid tokens and refuses the rest while Redis is dead (SIGKILL), and recovers after a restart', async () => {
    process.kill(pid, 'SIGKILL');
    try {
      await duringOutage();
    } finally {
      await server.restart();
      pid = await redisPid(server.url);
    }
    // The restarted Redis kept nothing (no persistence): the sessions are gone, and the check says so.
    const after = await eventually(() => withBearer(app, '/probe/bearer', live.accessToken), (res) => res.status === 401);
    expect(after.status).toBe(401);
    await http(app).post('/auth/login').send({ username: 'alice', password: 'alice-password' }).expect(200);
  });
});

describe("storeUnavailable 'reject' (the default)", () => {
  let server: RedisServerHandle;
  let pid: number;
  let app: INestApplication;

  beforeAll(async () => {
    server = await startRedisServer();
    pid = await redisPid(server.url);
    app = await createJwtApp({ adapter: 'express', store: { type: 'redis', url: server.url, operationTimeoutMs: OPERATION_TIMEOUT_MS } });
  });
  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  it('answers a valid access token with 503 and Retry-After while Redis is frozen', async () => {
    const { accessToken } = await tokenLogin(app, 'alice');
    process.kill(pid, 'SIGSTOP');
    try {
      const answer = await timed(() => withBearer(app, '/probe/bearer', accessToken));
      expect(shape(answer)).toEqual(unavailable);
      expect(answer.elapsed).toBeLessThan(ANSWER_WITHIN_MS);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await withBearer(app, '/probe/bearer', accessToken).expect(200);
  });
});
