/**
 * A socket dies with its session, on every instance: two apps (Express and Fastify) share one
 * Redis (the suite's own redis-server, each app with its own connections); sockets are opened on
 * instance B and their sessions ended through instance A. Prints each close latency.
 */
import type { INestApplication } from '@nestjs/common';
import { http, login, uniqueKeyPrefix } from './support/http-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import type { SessionModuleOptions } from '../src/index.js';
import { openWs, wsUrl, type WsClient } from './support/ws-client.js';
import { createWsApp } from './support/ws-app.js';

/** The bound the suite holds every close to; the target is well under it (printed). */
const CLOSE_BOUND_MS = 1_000;
/** How long a test waits for a close before failing (the bound plus slack for a loaded machine). */
const WAIT_MS = 5_000;

function closedWithin(client: WsClient, ms: number): Promise<{ code: number; reason: string; at: number } | 'still open'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'still open'>((resolve) => {
    timer = setTimeout(() => resolve('still open'), ms);
  });
  return Promise.race([client.closed, timeout]).finally(() => clearTimeout(timer));
}

async function expectClosedBy(client: WsClient, startedAt: number, label: string, deadline = startedAt): Promise<void> {
  const closed = await closedWithin(client, WAIT_MS + (deadline - startedAt));
  expect(closed).not.toBe('still open');
  if (closed === 'still open') return;
  expect(closed.code).toBe(4401);
  const latency = Math.round(closed.at - deadline);
  console.log(`socket closed ${latency} ms after ${label} (code ${closed.code}, reason "${closed.reason}")`);
  expect(latency).toBeLessThanOrEqual(CLOSE_BOUND_MS);
}

async function instances(redis: RedisServerHandle, session: Partial<SessionModuleOptions> = {}): Promise<[INestApplication, INestApplication]> {
  const keyPrefix = uniqueKeyPrefix('ws');
  const options = { ...session, store: { type: 'redis' as const, url: redis.url, keyPrefix } };
  return Promise.all([createWsApp('express', options), createWsApp('fastify', options)]);
}

/** A socket on `app` for a fresh login of `username` (through `via`), once its first message is answered. */
async function socketFor(app: INestApplication, via: INestApplication, username: 'alice' | 'root' = 'alice') {
  const { cookie } = await login(via, username);
  const client = await openWs(wsUrl(app, '/ws'), { Cookie: cookie });
  client.send('whoami');
  const { data } = (await client.next()) as { data: { sessionId: string } };
  return { client, cookie, sessionId: data.sessionId };
}

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis.stop());

describe('sockets on instance B closed by session ends on instance A (Redis pub/sub)', () => {
  let a: INestApplication;
  let b: INestApplication;
  beforeAll(async () => {
    [a, b] = await instances(redis);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('closes with 4401 on logout, and leaves another user’s socket open', async () => {
    const alice = await socketFor(b, a);
    const root = await socketFor(b, a, 'root');
    const startedAt = performance.now();
    await http(a).post('/auth/logout').set('Cookie', alice.cookie).expect(204);
    await expectClosedBy(alice.client, startedAt, 'logout');
    root.client.send('whoami');
    expect(await root.client.next()).toMatchObject({ event: 'whoami', data: { user: { id: 'u-root' } } });
    root.client.socket.close();
  });

  it('closes the socket of one revoked session and keeps the user’s other session’s socket', async () => {
    const target = await socketFor(b, a);
    const other = await socketFor(b, a);
    const startedAt = performance.now();
    await http(a).delete(`/auth/sessions/${target.sessionId}`).set('Cookie', other.cookie).expect(204);
    await expectClosedBy(target.client, startedAt, 'revoke one');
    other.client.send('whoami');
    expect(await other.client.next()).toMatchObject({ event: 'whoami' });
    other.client.socket.close();
  });

  it('closes every socket of the user on revoke-all', async () => {
    const first = await socketFor(b, a);
    const second = await socketFor(b, a);
    const startedAt = performance.now();
    await http(a).post('/probe/disable/u-alice').expect(201);
    await expectClosedBy(first.client, startedAt, 'revoke all (1st socket)');
    await expectClosedBy(second.client, startedAt, 'revoke all (2nd socket)');
  });

  it('closes the other sessions’ sockets on revoke-others, and the socket of the rotated-away current cookie', async () => {
    const current = await socketFor(b, a);
    const other = await socketFor(b, a);
    const startedAt = performance.now();
    await http(a).post('/probe/password-changed').set('Cookie', current.cookie).expect(201);
    await expectClosedBy(other.client, startedAt, 'revoke others');
    await expectClosedBy(current.client, startedAt, 'rotation of the current session');
  });

  it('closes the socket of a session rotated away by a privilege change', async () => {
    const socket = await socketFor(b, a);
    const startedAt = performance.now();
    await http(a).post('/probe/promote').set('Cookie', socket.cookie).expect(201);
    await expectClosedBy(socket.client, startedAt, 'rotation');
  });
});

describe('sockets closed at their session’s expiry', () => {
  const IDLE_MS = 1_500;
  const ABSOLUTE_MS = 2_500;
  let a: INestApplication;
  let b: INestApplication;
  beforeAll(async () => {
    [a, b] = await instances(redis, { idleTimeout: IDLE_MS, absoluteTimeout: ABSOLUTE_MS, touchInterval: 100 });
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('closes an idle session’s socket within the idle deadline plus the bound', async () => {
    const loggedInAt = performance.now();
    const { client } = await socketFor(b, a);
    const closed = await closedWithin(client, IDLE_MS + WAIT_MS);
    expect(closed).not.toBe('still open');
    if (closed === 'still open') return;
    expect(closed.at).toBeGreaterThanOrEqual(loggedInAt + IDLE_MS);
    // The session's idle deadline is at least this late (lastSeenAt is the login's), so this latency is an upper bound.
    await expectClosedBy(client, loggedInAt, 'the idle deadline', loggedInAt + IDLE_MS);
  });

  it('closes a busy session’s socket at the absolute deadline plus the bound', async () => {
    const loggedInAt = performance.now();
    const { client } = await socketFor(b, a);
    // Activity on the socket keeps the idle deadline moving; the absolute one does not move.
    const busy = setInterval(() => client.send('whoami'), 300);
    try {
      const closed = await closedWithin(client, ABSOLUTE_MS + WAIT_MS);
      expect(closed).not.toBe('still open');
      if (closed === 'still open') return;
      expect(closed.at).toBeGreaterThan(loggedInAt + IDLE_MS);
      await expectClosedBy(client, loggedInAt, 'the absolute deadline', loggedInAt + ABSOLUTE_MS);
    } finally {
      clearInterval(busy);
    }
  });
});

describe('a handshake while the session store is down', () => {
  let down: RedisServerHandle;
  let app: INestApplication;
  beforeAll(async () => {
    down = await startRedisServer();
    app = await createWsApp('express', { store: { type: 'redis', url: down.url, keyPrefix: uniqueKeyPrefix('ws-down'), operationTimeoutMs: 300 } });
  });
  afterAll(async () => {
    await app.close();
    await down.stop();
  });

  it('is closed with 1013 (try again later), and the app keeps serving', async () => {
    const { cookie } = await login(app, 'alice');
    await down.stop();
    const client = await openWs(wsUrl(app, '/ws'), { Cookie: cookie });
    expect(await closedWithin(client, WAIT_MS)).toMatchObject({ code: 1013 });
    expect((await http(app).get('/probe/public')).status).toBe(200);
  });
});
