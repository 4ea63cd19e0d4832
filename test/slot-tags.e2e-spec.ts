/**
 * The slot tag in the cookie (issue 7, defect 16): keyed under the module secret, so cookies of
 * one user cannot be linked without the key and a guessed id cannot be confirmed, and still
 * stable across secret rotation, so list and revoke-all reach every live session of a user.
 * Over Express and Fastify, with the memory and Redis stores.
 */
import { createHash } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { MemorySessionStore, type SessionStoreOption } from '../src/index.js';
import { cookieValue, http, login, MATRIX, meStatus, uniqueKeyPrefix, type StoreKind } from './support/http-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { createTestApp, TEST_SECRET, type AdapterName } from './support/test-app.js';

const NEW_SECRET = 'the-next-secret-that-is-long-enough-2026';

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

const tagOf = (cookie: string): string => cookieValue(cookie).split('.')[0];

describe.each(MATRIX)('slot tags over %s with the %s store', (adapter: AdapterName, kind: StoreKind) => {
  const apps: INestApplication[] = [];
  let memory: MemorySessionStore | undefined;

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await memory?.close();
    memory = undefined;
  });

  /** Apps that share one store, as the instances of a deployment do. */
  function sharedStore(): SessionStoreOption {
    if (kind === 'redis') {
      const keyPrefix = uniqueKeyPrefix('tags');
      return { type: 'redis', url: redis.url, keyPrefix };
    }
    memory = new MemorySessionStore();
    return memory;
  }

  async function appWith(secret: string | string[], store: SessionStoreOption): Promise<INestApplication> {
    const app = await createTestApp({ adapter, session: { secret, store } });
    apps.push(app);
    return app;
  }

  it('is an HMAC under the secret: neither the plain hash of the user id nor the same under another secret', async () => {
    const store = sharedStore();
    const first = tagOf((await login(await appWith(TEST_SECRET, store), 'alice')).cookie);
    const other = tagOf((await login(await appWith(NEW_SECRET, store), 'alice')).cookie);
    expect(first).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(first).not.toBe(createHash('sha256').update('user:u-alice').digest('base64url').slice(0, 12));
    expect(other).not.toBe(first);
  });

  it('keeps sessions made before a secret rotation in the user list and in revoke-all', async () => {
    const store = sharedStore();
    const before = await appWith(TEST_SECRET, store);
    const oldCookie = (await login(before, 'alice')).cookie;
    const rotated = await appWith([NEW_SECRET, TEST_SECRET], store);
    const newCookie = (await login(rotated, 'alice')).cookie;
    expect(tagOf(newCookie)).not.toBe(tagOf(oldCookie));

    const listed = await http(rotated).get('/auth/sessions').set('Cookie', newCookie).expect(200);
    expect(listed.body).toHaveLength(2);
    expect(await meStatus(rotated, oldCookie)).toBe(200);

    expect((await http(rotated).post('/probe/disable/u-alice').expect(201)).body).toEqual({ revoked: 2 });
    expect(await meStatus(rotated, oldCookie)).toBe(401);
    expect(await meStatus(rotated, newCookie)).toBe(401);
  });
});
