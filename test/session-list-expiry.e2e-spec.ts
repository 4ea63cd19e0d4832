/**
 * The `expiresAt` of a listed session is when it really ends if left alone: in jwt and hybrid
 * mode a session lives as long as its refresh token, not just its cookie's idle timeout.
 */
import type { INestApplication } from '@nestjs/common';
import { createJwtApp, tokenLogin, withBearer } from './support/jwt-helpers.js';
import { MATRIX, storeOption, type StoreKind } from './support/http-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import type { AdapterName } from './support/test-app.js';

const IDLE_MS = 60_000;
const REFRESH_MS = 3_600_000;

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

describe.each(MATRIX)('listed expiry over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it.each(['jwt', 'hybrid'] as const)('in %s mode is the refresh token expiry, not the idle timeout', async (mode) => {
    app = await createJwtApp({
      adapter,
      mode,
      store: storeOption(store, redis.url),
      jwt: { refreshTokenTtl: REFRESH_MS },
      session: { idleTimeout: IDLE_MS, absoluteTimeout: '1d' },
    });
    const before = Date.now();
    const { accessToken } = await tokenLogin(app, 'alice');
    const listed = await withBearer(app, '/auth/sessions', accessToken).expect(200);
    const expiresAt = Date.parse(listed.body[0].expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + REFRESH_MS);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + REFRESH_MS);
  });
});
