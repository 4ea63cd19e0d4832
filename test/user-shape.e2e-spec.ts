/**
 * What of a user is kept (issue 7, defects 13 and 14): numeric ids as ORMs give them, and only
 * id, roles and the whitelisted `userFields` in the session and in every answer, whatever
 * validateUser returns. Over Express and Fastify, with the memory and Redis stores, in session
 * and jwt mode.
 */
import type { INestApplication } from '@nestjs/common';
import type { AuthUser, SessionModuleOptions } from '../src/index.js';
import { decodeJwt, TEST_KEYS, withBearer } from './support/jwt-helpers.js';
import { http, MATRIX, storeOption, type StoreKind } from './support/http-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { createTestApp, sessionCookieFrom, type AdapterName } from './support/test-app.js';

/** An ORM entity as TypeORM hands it over: numeric key, password hash and all. */
const ENTITY = { id: 42, email: 'ada@example.com', passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', roles: ['user'] };
const SHOWN = { id: 42, email: 'ada@example.com', roles: ['user'] };

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

function appWith(adapter: AdapterName, store: StoreKind, validated: unknown, extra: Partial<SessionModuleOptions> = {}) {
  return createTestApp({
    adapter,
    session: {
      store: storeOption(store, redis.url),
      userFields: ['email'],
      validateUser: async (username) => (username === 'ada' ? (validated as AuthUser) : null),
      ...extra,
    },
  });
}

const ADA = { username: 'ada', password: 'any-password' };

describe.each(MATRIX)('the stored user over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('accepts a numeric id, gives it back as a number, and keeps only id, roles and userFields', async () => {
    app = await appWith(adapter, store, ENTITY);
    const loggedIn = await http(app).post('/auth/login').send(ADA).expect(200);
    expect(loggedIn.body).toEqual({ user: SHOWN });
    const cookie = sessionCookieFrom(loggedIn);

    const me = await http(app).get('/auth/me').set('Cookie', cookie).expect(200);
    expect(me.body).toEqual({ user: SHOWN });
    expect(JSON.stringify(me.body)).not.toContain('argon2');
    const sessions = await http(app).get('/auth/sessions').set('Cookie', cookie).expect(200);
    expect(sessions.body).toHaveLength(1);
  });

  it('ends the sessions of a numeric id when revoked by its string form', async () => {
    app = await appWith(adapter, store, ENTITY);
    const cookie = sessionCookieFrom(await http(app).post('/auth/login').send(ADA).expect(200));
    expect((await http(app).post('/probe/disable/42').expect(201)).body).toEqual({ revoked: 1 });
    await http(app).get('/auth/me').set('Cookie', cookie).expect(401);
  });

  it('never stores a field that is not whitelisted', async () => {
    app = await appWith(adapter, store, ENTITY, { userFields: [] });
    const cookie = sessionCookieFrom(await http(app).post('/auth/login').send(ADA).expect(200));
    expect((await http(app).get('/auth/me').set('Cookie', cookie).expect(200)).body).toEqual({ user: { id: 42, roles: ['user'] } });
  });

  it.each([
    ['an object as id', { id: { $oid: 'x' } }],
    ['a fractional id', { id: 1.5 }],
    ['an empty id', { id: '' }],
    ['roles that are not strings', { id: 'u-1', roles: [1] }],
    ['a string instead of a user', 'u-1'],
    ['a BigInt in a userFields field', { id: 7, email: BigInt(12) }],
    ['a cyclic value in a userFields field', (() => { const email: Record<string, unknown> = {}; email.self = email; return { id: 7, email }; })()],
  ])('answers 400 with what to return, never 500, when validateUser gives %s', async (_case, validated) => {
    app = await appWith(adapter, store, validated);
    const response = await http(app).post('/auth/login').send(ADA);
    expect(response.status).toBe(400);
    expect(response.body.message).toContain('validateUser');
    expect(response.headers['set-cookie']).toBeUndefined();
  });
});

describe.each(MATRIX)('the stored user in jwt mode over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('puts the id in `sub` as a string and gives the user back with the numeric id', async () => {
    app = await appWith(adapter, store, ENTITY, { mode: 'jwt', jwt: { keys: [TEST_KEYS.hs1] } });
    const loggedIn = await http(app).post('/auth/login').send(ADA).expect(200);
    expect(loggedIn.body.user).toEqual(SHOWN);
    expect(decodeJwt(loggedIn.body.accessToken).payload.sub).toBe('42');
    const me = await withBearer(app, '/auth/me', loggedIn.body.accessToken).expect(200);
    expect(me.body).toEqual({ user: SHOWN });
  });
});
