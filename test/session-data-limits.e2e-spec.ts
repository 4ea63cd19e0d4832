/**
 * A session's data caps (SESSION_DATA_LIMITS: 1000 keys, 1 MiB) count UTF-8 bytes and hold
 * under concurrency, because the store checks them where it writes. Past them a request gets
 * 413 with a message, never a 500, and the session keeps the data it had.
 */
import type { INestApplication } from '@nestjs/common';
import { http, login, MATRIX, storeOption, type StoreKind } from './support/http-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { createTestApp, type AdapterName } from './support/test-app.js';

/** MAX_TOTAL_BYTES, the cap the README documents. */
const MAX_TOTAL_BYTES = 1024 * 1024;

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

describe.each(MATRIX)('session data caps over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication;

  beforeEach(async () => {
    app = await createTestApp({ adapter, session: { store: storeOption(store, redis.url) } });
  });

  afterEach(async () => {
    await app?.close();
  });

  const put = (cookie: string, key: string, value: unknown) => http(app).put(`/probe/data/${key}`).set('Cookie', cookie).send({ value });
  const stored = async (cookie: string) => (await http(app).get('/probe/data').set('Cookie', cookie)).body as Record<string, unknown>;

  it("counts bytes, not characters: 65,400-byte values of '€' are refused with 413 once 1 MiB of bytes is stored", async () => {
    const { cookie } = await login(app, 'alice');
    const value = '€'.repeat(21_800); // 21,802 characters of JSON, 65,402 bytes
    const entryBytes = 3 + Buffer.byteLength(JSON.stringify(value));
    const fits = Math.floor(MAX_TOTAL_BYTES / entryBytes);
    expect(fits).toBe(16);

    const statuses: number[] = [];
    for (let i = 0; i < fits + 2; i++) statuses.push((await put(cookie, `k${String(i).padStart(2, '0')}`, value)).status);

    expect(statuses).toEqual([...Array(fits).fill(200), 413, 413]);
    const refused = await put(cookie, 'k99', value);
    expect(refused.status).toBe(413);
    expect((refused.body as { message: string }).message).toMatch(/exceed .*1048576 bytes/);
    const data = await stored(cookie);
    expect(Object.keys(data)).toHaveLength(fits);
    expect(data.k00).toBe(value);
  });

  it('40 parallel writes: exactly as many succeed as fit, the rest get 413, and the session holds only the successful ones', async () => {
    const { cookie } = await login(app, 'alice');
    const value = 'x'.repeat(29_998); // 30,000 bytes as JSON
    const fits = Math.floor(MAX_TOTAL_BYTES / (3 + 30_000));
    expect(fits).toBe(34);
    const names = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, '0')}`);

    const responses = await Promise.all(names.map((name) => put(cookie, name, value)));

    const accepted = names.filter((_, i) => responses[i].status === 200);
    expect(responses.map((response) => response.status).sort()).toEqual([...Array(fits).fill(200), ...Array(40 - fits).fill(413)]);
    const data = await stored(cookie);
    expect(Object.keys(data).sort()).toEqual(accepted.sort());
    // Still a working session: a small write after the refusals goes through.
    expect((await put(cookie, 'p00', 'small')).status).toBe(200);
  });
});
