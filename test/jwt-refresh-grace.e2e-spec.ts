/**
 * The refresh reuse grace window (`jwt.refreshReuseGrace`) over Express and Fastify with the
 * memory and Redis stores: two tabs refreshing with one token at once keep the family alive and
 * get the same successor; without a window that race is reuse, as before; after the window the
 * rotated token is reuse again (SECURITY row 15).
 */
import type { INestApplication } from '@nestjs/common';
import type { Response } from 'supertest';
import { readDemoConfig } from '../src/demo/demo-config.js';
import { http, MATRIX, parseSetCookie, setCookies, sleep, storeOption, type StoreKind } from './support/http-helpers.js';
import { bearerStatus, createJwtApp, refreshStatus, refreshWith, tokenLogin, type JwtAppOptions } from './support/jwt-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import type { AdapterName } from './support/test-app.js';

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

interface Pair {
  accessToken: string;
  refreshToken: string;
}

function start(adapter: AdapterName, store: StoreKind, jwt: JwtAppOptions['jwt'] = {}): Promise<INestApplication> {
  return createJwtApp({ adapter, store: storeOption(store, redis.url), jwt });
}

/** Every answer is 200 or 401, at least one is 200, and all 200s carry one and the same refresh token. */
function sharedSuccessor(responses: Response[], refreshTokenOf: (response: Response) => string): string {
  const statuses = responses.map((response) => response.status);
  expect(statuses.every((status) => status === 200 || status === 401)).toBe(true);
  const successes = responses.filter((response) => response.status === 200);
  expect(successes.length).toBeGreaterThanOrEqual(1);
  const successors = new Set(successes.map(refreshTokenOf));
  expect(successors.size).toBe(1);
  return [...successors][0];
}

describe.each(MATRIX)('refresh reuse grace over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication;

  afterEach(async () => {
    await app?.close();
  });

  it('with a 5 s grace, two concurrent refreshes with one token keep the family alive and answer one successor, whose tokens work', async () => {
    app = await start(adapter, store, { refreshReuseGrace: '5s' });
    const { refreshToken } = await tokenLogin(app, 'alice');

    const responses = await Promise.all([refreshWith(app, refreshToken), refreshWith(app, refreshToken)]);

    const successor = sharedSuccessor(responses, (response) => (response.body as Pair).refreshToken);
    for (const response of responses.filter((answer) => answer.status === 200)) {
      expect(await bearerStatus(app, (response.body as Pair).accessToken)).toBe(200);
    }
    expect(await refreshStatus(app, successor)).toBe(200);
  });

  it("with a 5 s grace and the refresh cookie, two concurrent refreshes set the same successor cookie, which refreshes", async () => {
    app = await start(adapter, store, { refreshReuseGrace: '5s', refreshTokenTransport: 'cookie' });
    const login = await tokenLogin(app, 'alice');
    const cookie = setCookies(login.response).map(parseSetCookie).find((parsed) => parsed.name === 'rt')!;
    const refreshByCookie = () => http(app).post('/auth/refresh').set('Cookie', `rt=${cookie.value}`);

    const responses = await Promise.all([refreshByCookie(), refreshByCookie()]);

    const successor = sharedSuccessor(responses, (response) => setCookies(response).map(parseSetCookie).find((parsed) => parsed.name === 'rt')!.value);
    expect((await http(app).post('/auth/refresh').set('Cookie', `rt=${successor}`)).status).toBe(200);
  });

  it('within the window, the rotated token answers the same successor again; once that successor was used, the rotated token is reuse and ends the family', async () => {
    app = await start(adapter, store, { refreshReuseGrace: '5s' });
    const login = await tokenLogin(app, 'alice');
    const first = (await refreshWith(app, login.refreshToken)).body as Pair;

    const again = await refreshWith(app, login.refreshToken);
    expect(again.status).toBe(200);
    expect((again.body as Pair).refreshToken).toBe(first.refreshToken);
    expect((again.body as Pair).accessToken).not.toBe(first.accessToken);
    expect(await bearerStatus(app, (again.body as Pair).accessToken)).toBe(200);

    const second = await refreshWith(app, first.refreshToken);
    expect(second.status).toBe(200);
    expect(await refreshStatus(app, login.refreshToken)).toBe(401);
    expect(await refreshStatus(app, (second.body as Pair).refreshToken)).toBe(401);
    expect(await bearerStatus(app, (second.body as Pair).accessToken)).toBe(401);
  });

  it('without a grace window (the default), two concurrent refreshes with one token are reuse: one 200 at most, and the family ends', async () => {
    app = await start(adapter, store);
    const { refreshToken } = await tokenLogin(app, 'alice');

    const responses = await Promise.all([refreshWith(app, refreshToken), refreshWith(app, refreshToken)]);

    expect(responses.map((response) => response.status).sort()).toEqual([200, 401]);
    const winner = responses.find((response) => response.status === 200)!.body as Pair;
    expect(await refreshStatus(app, winner.refreshToken)).toBe(401);
    expect(await bearerStatus(app, winner.accessToken)).toBe(401);
  });
});

/** Timed, so the combinations run side by side. */
describe('after the refresh reuse grace window', () => {
  it.concurrent.each(MATRIX)('over %s with the %s store, the rotated token is reuse again: the family ends', async (adapter, store) => {
    const app = await start(adapter, store, { refreshReuseGrace: '1s' });
    try {
      const login = await tokenLogin(app, 'alice');
      const refreshed = await refreshWith(app, login.refreshToken);
      const rotatedBy = Date.now();
      expect(refreshed.status).toBe(200);
      const successor = refreshed.body as Pair;

      await sleep(rotatedBy + 1_000 + 100 - Date.now());

      expect(await refreshStatus(app, login.refreshToken)).toBe(401);
      expect(await refreshStatus(app, successor.refreshToken)).toBe(401);
      expect(await bearerStatus(app, successor.accessToken)).toBe(401);
    } finally {
      await app.close();
    }
  });
});

describe('demo configuration', () => {
  it('reads the grace window from REFRESH_REUSE_GRACE', () => {
    const config = readDemoConfig({ AUTH_MODE: 'jwt', REFRESH_REUSE_GRACE: '5s', JWT_SECRET: 'j'.repeat(43), SESSION_SECRET: 's'.repeat(43) });
    expect(config.session.jwt?.refreshReuseGrace).toBe('5s');
  });
});
