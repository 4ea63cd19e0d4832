/**
 * Issue 11: three app processes (the built demo, in hybrid mode with per-request revocation)
 * on one Redis, and once on a Redis Cluster. A session made through one instance is valid on the
 * others, data written through one is read on another, and logout, revoke-one, revoke-all and
 * refresh-token reuse through one take effect on all of them for the very next request, for the
 * cookie and for the bearer token.
 */
import { randomBytes } from 'node:crypto';
import { buildDemo, type DemoBuild, type DemoProcess } from './support/demo-processes.js';
import { startRedisCluster, type RedisClusterHandle } from './support/redis-cluster.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';

const ALICE = { username: 'alice', password: 'alice-demo-password' };
const JWT_SECRET = randomBytes(32).toString('base64url');

let build: DemoBuild;
let redis: RedisServerHandle;
let cluster: RedisClusterHandle;
beforeAll(async () => {
  build = buildDemo();
  [redis, cluster] = await Promise.all([startRedisServer(), startRedisCluster()]);
}, 180_000);
afterAll(async () => {
  await build?.remove();
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
  cookie?: string;
}

async function call(instance: DemoProcess, method: string, path: string, options: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  const response = await fetch(`${instance.url}${path}`, {
    method,
    headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const sid = response.headers.getSetCookie().find((cookie) => /^[^=]*sid=/.test(cookie) && !/=;/.test(cookie));
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, cookie: sid?.split(';')[0] };
}

interface Login {
  cookie: { Cookie: string };
  bearer: { Authorization: string };
  refreshToken: string;
}

async function logIn(instance: DemoProcess): Promise<Login> {
  const answer = await call(instance, 'POST', '/auth/login', { body: ALICE });
  expect(answer.status).toBe(200);
  return { cookie: { Cookie: answer.cookie! }, bearer: { Authorization: `Bearer ${String(answer.body.accessToken)}` }, refreshToken: String(answer.body.refreshToken) };
}

const TOPOLOGIES = [
  ['one Redis', () => ({ REDIS_URL: redis.url })],
  ['a Redis Cluster', () => ({ REDIS_CLUSTER_NODES: cluster.seeds.join(',') })],
] as const;

describe.each(TOPOLOGIES)('three demo processes on %s', (_name, storeEnv) => {
  let instances: DemoProcess[];
  beforeAll(async () => {
    const env = { ...storeEnv(), REDIS_KEY_PREFIX: `instances-${randomBytes(4).toString('hex')}:`, AUTH_MODE: 'hybrid', JWT_SECRET };
    instances = await Promise.all([build.start(env), build.start(env), build.start(env)]);
  }, 120_000);
  afterAll(async () => {
    await build?.stopAll();
  });

  /** Status of the guarded /auth/me on every instance, with these credentials. */
  const everywhere = (headers: Record<string, string>) => Promise.all(instances.map(async (instance) => (await call(instance, 'GET', '/auth/me', { headers })).status));

  it('a login through one instance is valid on all, and data written through one is read on another', async () => {
    const [a, b, c] = instances;
    const login = await logIn(a);
    expect(await everywhere(login.cookie)).toEqual([200, 200, 200]);
    expect(await everywhere(login.bearer)).toEqual([200, 200, 200]);
    expect((await call(b, 'PUT', '/demo/session/colour', { headers: login.cookie, body: { value: 'teal' } })).status).toBe(200);
    expect((await call(c, 'GET', '/demo/session', { headers: login.cookie })).body).toMatchObject({ colour: 'teal' });
    expect((await call(a, 'GET', '/demo/session', { headers: login.bearer })).body).toMatchObject({ colour: 'teal' });
  });

  it('logout through one instance ends the session on all of them for the very next request', async () => {
    const [a, b] = instances;
    const login = await logIn(a);
    expect((await call(b, 'POST', '/auth/logout', { headers: login.cookie })).status).toBe(204);
    expect(await everywhere(login.cookie)).toEqual([401, 401, 401]);
    expect(await everywhere(login.bearer)).toEqual([401, 401, 401]);
  });

  it('revoking one session through one instance ends it on all; the caller goes on', async () => {
    const [a, b, c] = instances;
    const mine = await logIn(a);
    const other = await logIn(b);
    const listed = (await call(c, 'GET', '/auth/sessions', { headers: other.cookie })).body;
    const sessions = (listed.sessions ?? listed) as Array<{ id: string; current: boolean }>;
    const otherId = sessions.find((session) => session.current)!.id;
    expect((await call(c, 'DELETE', `/auth/sessions/${otherId}`, { headers: mine.cookie })).status).toBe(204);
    expect(await everywhere(other.cookie)).toEqual([401, 401, 401]);
    expect(await everywhere(other.bearer)).toEqual([401, 401, 401]);
    expect(await everywhere(mine.cookie)).toEqual([200, 200, 200]);
  });

  it('revoke-all through one instance ends every session on all of them', async () => {
    const [a, b, c] = instances;
    const logins = [await logIn(a), await logIn(b), await logIn(c)];
    expect((await call(b, 'POST', '/auth/logout-all', { headers: logins[0].bearer })).status).toBe(204);
    for (const login of logins) {
      expect(await everywhere(login.cookie)).toEqual([401, 401, 401]);
      expect(await everywhere(login.bearer)).toEqual([401, 401, 401]);
    }
  });

  it('a refresh token reused on another instance revokes the family on all of them', async () => {
    const [a, b, c] = instances;
    const login = await logIn(a);
    const rotated = await call(b, 'POST', '/auth/refresh', { body: { refreshToken: login.refreshToken } });
    expect(rotated.status).toBe(200);
    expect((await call(c, 'POST', '/auth/refresh', { body: { refreshToken: login.refreshToken } })).status).toBe(401);
    expect((await call(a, 'POST', '/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } })).status).toBe(401);
    expect(await everywhere({ Authorization: `Bearer ${String(rotated.body.accessToken)}` })).toEqual([401, 401, 401]);
    expect(await everywhere(login.cookie)).toEqual([401, 401, 401]);
  });
});
