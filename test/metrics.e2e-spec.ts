/**
 * Prometheus metrics through prom-client, scraped from the registry after a real flow on a real
 * Redis (jwt mode): logins by outcome, refreshes by outcome, refresh reuse, revocations by
 * reason, the active-session gauge, store latency by operation and store errors by kind (a frozen
 * Redis times out, a dead one is unavailable). Each number is the exact count the flow produces.
 */
import type { INestApplication } from '@nestjs/common';
import { register, Registry } from 'prom-client';
import { createJwtApp, refreshWith, tokenLogin, withBearer } from './support/jwt-helpers.js';
import { http, uniqueKeyPrefix } from './support/http-helpers.js';
import { redisPid } from './support/redis-process.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { createTestApp } from './support/test-app.js';

/** Every sample of a scrape, by `name{labels}` as prom-client writes it. */
async function scrape(registry: Registry): Promise<Map<string, number>> {
  const samples = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

const pick = (samples: Map<string, number>, names: string[]) => Object.fromEntries(names.map((name) => [name, samples.get(name)]));

describe('Prometheus metrics after a jwt flow on Redis', () => {
  let server: RedisServerHandle;
  let app: INestApplication;
  const registry = new Registry();

  beforeAll(async () => {
    server = await startRedisServer();
    app = await createJwtApp({
      adapter: 'express',
      store: { type: 'redis', url: server.url, keyPrefix: uniqueKeyPrefix('metrics'), operationTimeoutMs: 1_000 },
      session: { metrics: { registry } },
    });
  });
  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  it('counts logins, refreshes, reuse, revocations and active sessions exactly', async () => {
    const alice = await tokenLogin(app, 'alice');
    await http(app).post('/auth/login').send({ username: 'alice', password: 'wrong' }).expect(401);
    await refreshWith(app, alice.refreshToken).expect(200);
    await refreshWith(app, alice.refreshToken).expect(401); // reuse: the family ends
    const root1 = await tokenLogin(app, 'root');
    const root2 = await tokenLogin(app, 'root');
    const listed = await http(app).get('/auth/sessions').set('Authorization', `Bearer ${root1.accessToken}`).expect(200);
    const other = (listed.body as Array<{ id: string; current: boolean }>).find((session) => !session.current)!;
    await http(app).delete(`/auth/sessions/${other.id}`).set('Authorization', `Bearer ${root1.accessToken}`).expect(204);
    await withBearer(app, '/probe/bearer', root2.accessToken).expect(401);
    await http(app).post('/auth/logout').set('Authorization', `Bearer ${root1.accessToken}`).expect(204);
    await tokenLogin(app, 'alice');
    await http(app).post('/probe/disable/u-alice').expect(201);
    const last = await tokenLogin(app, 'alice');
    await withBearer(app, '/probe/bearer', last.accessToken).expect(200);

    const samples = await scrape(registry);
    expect(
      pick(samples, [
        'session_auth_logins_total{outcome="succeeded"}',
        'session_auth_logins_total{outcome="bad-credentials"}',
        'session_auth_logins_total{outcome="throttled"}',
        'session_auth_refreshes_total{outcome="rotated"}',
        'session_auth_refreshes_total{outcome="reused"}',
        'session_auth_refreshes_total{outcome="replayed"}',
        'session_auth_refreshes_total{outcome="invalid"}',
        'session_auth_refresh_reuse_total',
        'session_auth_revocations_total{reason="logout"}',
        'session_auth_revocations_total{reason="revoked"}',
        'session_auth_revocations_total{reason="evicted"}',
        'session_auth_sessions_active',
        'session_auth_store_operation_duration_seconds_count{operation="create"}',
        'session_auth_store_operation_duration_seconds_count{operation="rotateRefreshToken"}',
        'session_auth_store_operation_duration_seconds_count{operation="destroyByHandle"}',
      ]),
    ).toEqual({
      'session_auth_logins_total{outcome="succeeded"}': 5,
      'session_auth_logins_total{outcome="bad-credentials"}': 1,
      'session_auth_logins_total{outcome="throttled"}': 0,
      'session_auth_refreshes_total{outcome="rotated"}': 1,
      'session_auth_refreshes_total{outcome="reused"}': 1,
      'session_auth_refreshes_total{outcome="replayed"}': 0,
      'session_auth_refreshes_total{outcome="invalid"}': 0,
      'session_auth_refresh_reuse_total': 1,
      'session_auth_revocations_total{reason="logout"}': 1,
      // One by handle (DELETE /auth/sessions/:id), one by revoke-all.
      'session_auth_revocations_total{reason="revoked"}': 2,
      'session_auth_revocations_total{reason="evicted"}': 0,
      // Only the last login of alice: the others ended (reuse, revoke, logout, revoke-all).
      'session_auth_sessions_active': 1,
      'session_auth_store_operation_duration_seconds_count{operation="create"}': 5,
      'session_auth_store_operation_duration_seconds_count{operation="rotateRefreshToken"}': 2,
      'session_auth_store_operation_duration_seconds_count{operation="destroyByHandle"}': 1,
    });
    expect([...samples.keys()].filter((name) => name.startsWith('session_auth_store_errors_total'))).toEqual([]);
  });

  it('counts store errors by kind: a frozen Redis times out, a dead one is unavailable', async () => {
    const { accessToken } = await tokenLogin(app, 'alice');
    const pid = await redisPid(server.url);
    process.kill(pid, 'SIGSTOP');
    try {
      await withBearer(app, '/probe/bearer', accessToken).expect(503);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    process.kill(pid, 'SIGKILL');
    try {
      await withBearer(app, '/probe/bearer', accessToken).expect(503);
    } finally {
      await server.restart();
    }
    const samples = await scrape(registry);
    expect(pick(samples, ['session_auth_store_errors_total{operation="read",kind="timeout"}', 'session_auth_store_errors_total{operation="read",kind="unavailable"}'])).toEqual({
      'session_auth_store_errors_total{operation="read",kind="timeout"}': 1,
      'session_auth_store_errors_total{operation="read",kind="unavailable"}': 1,
    });
  });
});

describe('metrics registration', () => {
  afterEach(() => register.clear());

  it("goes to prom-client's default registry with `metrics: true`, and leaves it on shutdown", async () => {
    const app = await createTestApp({ adapter: 'express', session: { metrics: true } });
    await http(app).post('/auth/login').send({ username: 'alice', password: 'alice-password' }).expect(200);
    expect((await register.getSingleMetricAsString('session_auth_logins_total')).split('\n')).toContain('session_auth_logins_total{outcome="succeeded"} 1');
    await app.close();
    expect(register.getSingleMetric('session_auth_logins_total')).toBeUndefined();
  });

  it('takes a prefix, and refuses at boot to register a name the registry already has', async () => {
    const registry = new Registry();
    const first = await createTestApp({ adapter: 'express', session: { metrics: { registry, prefix: 'api_auth_' } } });
    try {
      expect(registry.getSingleMetric('api_auth_logins_total')).toBeDefined();
      await expect(createTestApp({ adapter: 'express', session: { metrics: { registry, prefix: 'api_auth_' } } })).rejects.toThrow(
        /`metrics` would register api_auth_logins_total, which the registry already has.*own `metrics.prefix` or `metrics.registry`/,
      );
    } finally {
      await first.close();
    }
  });

  it.each([
    [{ prefix: '9bad' }, 'metrics.prefix'],
    [{ registry: {} }, 'metrics.registry'],
    ['yes', 'metrics'],
  ])('refuses metrics %j at boot, naming %s', async (metrics, option) => {
    await expect(createTestApp({ adapter: 'express', session: { metrics: metrics as never } })).rejects.toThrow(`SessionModule option \`${option}\``);
  });
});
