/**
 * SignedRequestGuard end to end (RFC 9421 hmac-sha256 + RFC 9530 Content-Digest) over Express and
 * Fastify, with nonces in memory and in the SessionModule's Redis.
 */
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { MATRIX, uniqueKeyPrefix, type StoreKind } from './support/http-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { createSignedApp, send, signedHeaders, SIGNING_KEYS, type SignedCall } from './support/signed-app.js';
import { ADAPTERS, type AdapterName } from './support/test-app.js';

const ORDER: SignedCall = { method: 'POST', target: '/m2m/orders/17?priority=high', body: '{"item":"keyboard","quantity":2}' };

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis.stop());

describe.each(MATRIX)('signed requests (%s, %s nonces)', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication;
  const keyPrefix = uniqueKeyPrefix('signed');

  beforeAll(async () => {
    app = await createSignedApp({ adapter, sessionStore: store === 'redis' ? { type: 'redis', url: redis.url, keyPrefix } : undefined });
  });
  afterAll(() => app.close());

  it('accepts a signed request and tells the route which key signed it', async () => {
    const response = await send(app, ORDER, signedHeaders(ORDER)).expect(200);
    expect(response.body).toEqual({ keyId: 'kid1', id: '17', body: { item: 'keyboard', quantity: 2 } });
  });

  it('accepts every configured key, so keys can rotate', async () => {
    const call: SignedCall = { method: 'GET', target: '/m2m/status', keyId: 'kid2' };
    expect((await send(app, call, signedHeaders(call)).expect(200)).body).toEqual({ keyId: 'kid2' });
  });

  it('marks its answers, accepted or refused, as no cache may keep them: they depend on the signature', async () => {
    const call: SignedCall = { method: 'GET', target: '/m2m/status' };
    const accepted = await send(app, call, signedHeaders(call)).expect(200);
    const refused = await send(app, call, {}).expect(401);
    for (const answer of [accepted, refused]) expect(answer.headers['cache-control']).toBe('no-store');
    // Nor may a conditional request turn a signed answer into a 304.
    const validators = { 'if-none-match': String(accepted.headers.etag ?? '*'), 'if-modified-since': new Date().toUTCString() };
    await send(app, call, { ...signedHeaders(call), ...validators }).expect(200);
  });

  it('refuses a replay of an accepted request inside the window', async () => {
    const headers = signedHeaders(ORDER);
    await send(app, ORDER, headers).expect(200);
    const replay = await send(app, ORDER, headers).expect(401);
    expect(replay.body).toEqual({ statusCode: 401, message: 'Request signature rejected.', error: 'Unauthorized' });
    expect(replay.headers['accept-signature']).toContain('hmac-sha256');
  });

  it('gives exactly one success for 100 concurrent copies of one signed request', async () => {
    const headers = signedHeaders(ORDER);
    const statuses = await Promise.all(Array.from({ length: 100 }, async () => (await send(app, ORDER, headers)).status));
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 401)).toHaveLength(99);
  });

  it.each([
    ['method', { ...ORDER, method: 'PUT' }],
    ['path', { ...ORDER, target: '/m2m/orders/18?priority=high' }],
    ['query', { ...ORDER, target: '/m2m/orders/17?priority=higg' }],
    ['body', { ...ORDER, body: '{"item":"keyboard","quantity":3}' }],
  ] as const)('refuses the signed request with one byte of its %s changed', async (_part, changed) => {
    await send(app, changed, signedHeaders(ORDER)).expect(401);
  });

  it('refuses a body changed together with a Content-Digest recomputed for it, since the digest is signed', async () => {
    const changed = { ...ORDER, body: '{"item":"keyboard","quantity":9}' };
    const headers = { ...signedHeaders(ORDER), 'content-digest': signedHeaders(changed)['content-digest'] };
    await send(app, changed, headers).expect(401);
  });

  const nowSeconds = () => Math.floor(Date.now() / 1000);
  it.each([
    ['created before the window', () => ({ created: nowSeconds() - 302 })],
    ['created after the window', () => ({ created: nowSeconds() + 302 })],
    ['an unknown key id', () => ({ keyId: 'kid3', secret: SIGNING_KEYS.kid1 })],
    ['a wrong secret', () => ({ secret: `${SIGNING_KEYS.kid1}!` })],
  ])('refuses %s', async (_case, overrides) => {
    const call = { ...ORDER, ...overrides() };
    await send(app, call, signedHeaders(call)).expect(401);
  });

  it('refuses a request without a signature, and one whose signature leaves out the query or the body', async () => {
    await send(app, ORDER, {}).expect(401);
    const bare = { ...ORDER, target: '/m2m/orders/17' };
    await send(app, ORDER, signedHeaders(bare)).expect(401);
    const bodiless = { ...ORDER, body: undefined };
    await send(app, ORDER, signedHeaders(bodiless)).expect(401);
  });
});

describe('nonces in the SessionModule’s Redis', () => {
  it('are set with NX under the store’s key prefix, with a TTL that ends when `created` leaves the window', async () => {
    const keyPrefix = uniqueKeyPrefix('signed');
    const app = await createSignedApp({ adapter: 'express', sessionStore: { type: 'redis', url: redis.url, keyPrefix }, signed: { windowSeconds: 60 } });
    const client = new Redis(redis.url);
    try {
      await send(app, ORDER, signedHeaders(ORDER)).expect(200);
      const keys = await client.keys(`${keyPrefix}nonce:kid1:*`);
      expect(keys).toHaveLength(1);
      const ttl = await client.pttl(keys[0]);
      expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      client.disconnect();
      await app.close();
    }
  });

  it('answers 503 within the operation timeout while Redis is down, and works again once it is back', async () => {
    const own = await startRedisServer();
    const app = await createSignedApp({ adapter: 'fastify', sessionStore: { type: 'redis', url: own.url, keyPrefix: uniqueKeyPrefix('signed') } });
    try {
      await own.stop();
      const started = Date.now();
      const response = await send(app, ORDER, signedHeaders(ORDER)).expect(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(Date.now() - started).toBeLessThan(5_000);
      await own.restart();
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        status = (await send(app, ORDER, signedHeaders(ORDER))).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
    } finally {
      await app.close();
      await own.stop();
    }
  });
});

describe.each(ADAPTERS)('an app created without rawBody (%s)', (adapter: AdapterName) => {
  it('refuses a signed request with a body with 401, since the bytes received are gone, and still takes one without', async () => {
    const app = await createSignedApp({ adapter, rawBody: false });
    try {
      await send(app, ORDER, signedHeaders(ORDER)).expect(401);
      const status: SignedCall = { method: 'GET', target: '/m2m/status' };
      await send(app, status, signedHeaders(status)).expect(200);
    } finally {
      await app.close();
    }
  });
});

describe('SignedRequestModule options', () => {
  it('refuses a key shorter than 32 characters at boot, naming it', async () => {
    await expect(createSignedApp({ adapter: 'express', signed: { keys: { kid1: 'too-short' } } })).rejects.toThrow(/`keys\.kid1`.*32 characters/);
  });
});
