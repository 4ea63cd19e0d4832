/**
 * Issue 10, part 2: robustness. Seeded property tests (fast-check) feed hostile cookies,
 * Authorization headers, CSRF tokens, signed-request headers and request bodies to a real app
 * (hybrid mode, `csrf: { token: true }`, a SignedRequestGuard route, the Redis store) over
 * Express and Fastify. Every answer is a 2xx, 3xx or 4xx, never a 5xx and never a dropped
 * connection; afterwards the app still answers, and no key under the app's Redis prefix lives
 * without a TTL.
 *
 * Node's HTTP client refuses some header bytes itself (anything but tab, 0x20-0x7e and
 * 0x80-0xff): the generators stay inside that set (unicode goes on the wire as its UTF-8 bytes),
 * and a request the client still refuses counts as "not sent", not as a failure.
 */
import 'reflect-metadata';
import { All, Body, Controller, Param, UseGuards, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import type { Test as SuperTest } from 'supertest';
import { SessionModule, SignatureKeyId, SignedRequestGuard, SignedRequestModule, signRequest } from '../src/index.js';
import { http, uniqueKeyPrefix } from './support/http-helpers.js';
import { TEST_KEYS } from './support/jwt-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { SIGNING_KEYS } from './support/signed-app.js';
import { ADAPTERS, ProbeController, sessionCookieFrom, TEST_SECRET, validateTestUser, type AdapterName } from './support/test-app.js';

/** Fixed seeds and run counts: the same inputs on every run. */
const RUNS = 250;
const SEEDS = { cookie: 1001, bearer: 1002, csrf: 1003, signed: 1004, body: 1005 };

@Controller('m2m')
@UseGuards(SignedRequestGuard)
class SignedOrderController {
  @All('orders/:id')
  order(@SignatureKeyId() keyId: string, @Param('id') id: string, @Body() body: unknown) {
    return { keyId, id, body: body ?? null };
  }
}

let redis: RedisServerHandle;
let inspector: Redis;
beforeAll(async () => {
  redis = await startRedisServer();
  inspector = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await inspector?.quit();
  await redis?.stop();
});

/**
 * The test users, plus seed users no generated request names: each property starts from a
 * session of a new one, so the throttling its generated logins and password confirmations cause
 * (per account: 429) never blocks the next seed login.
 */
const SEED_PASSWORD = 'robust-seed-password';
const SEED_USERNAME = /^robust-seed-(\d+)$/;
let seedUsers = 0;
async function validateRobustUser(username: string, password: string) {
  const seedUser = SEED_USERNAME.exec(username);
  if (seedUser) return password === SEED_PASSWORD ? { id: `u-robust-seed-${seedUser[1]}`, name: 'Seed', roles: ['user'] } : null;
  return validateTestUser(username, password);
}
const seedLogin = () => ({ username: `robust-seed-${(seedUsers += 1)}`, password: SEED_PASSWORD });

async function createRobustApp(adapter: AdapterName, keyPrefix: string): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      SessionModule.forRoot({
        secret: TEST_SECRET,
        validateUser: validateRobustUser,
        userFields: ['name'],
        mode: 'hybrid',
        // The per-account limits stay at their defaults (generated logins hit them: 429); the
        // per-address one is raised so that seed users can still log in after many failures.
        loginThrottle: { perIp: { attempts: 1_000_000, window: '15m' } },
        jwt: { keys: [TEST_KEYS.hs1] },
        csrf: { token: true },
        store: { type: 'redis', url: redis.url, keyPrefix },
        routes: true,
        onAuthEvent: () => undefined,
      }),
      SignedRequestModule.forRoot({ keys: SIGNING_KEYS }),
    ],
    controllers: [ProbeController, SignedOrderController],
  }).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter() as never, { rawBody: true })
      : moduleRef.createNestApplication({ rawBody: true });
  app.useLogger(false);
  await app.listen(0, '127.0.0.1');
  return app;
}

/** Every key under the prefix with its PTTL, found with SCAN (-2: gone meanwhile, skipped). */
async function keysWithoutTtl(keyPrefix: string): Promise<{ total: number; without: string[] }> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await inspector.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  const ttls = await Promise.all(keys.map(async (key) => ({ key, pttl: await inspector.pttl(key) })));
  return { total: keys.length, without: ttls.filter((t) => t.pttl === -1).map((t) => t.key) };
}

// ---------------------------------------------------------------------------------------------
// Generators. Header values stay within what Node's client sends: tab, 0x20-0x7e, 0x80-0xff.

/** A string as its UTF-8 bytes, one latin1 character per byte: how unicode reaches the wire. */
const utf8Bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

const headerChar = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constant('\t') },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.constantFrom(';', '=', ',', '"', '\\', '%', ' ', '.', ':', '(', ')', '*', '?') },
);
const headerText = (maxLength: number) => fc.array(headerChar, { maxLength }).map((chars) => chars.join(''));
const unicodeText = fc.string({ unit: 'grapheme', maxLength: 20 }).map(utf8Bytes);
const base64urlText = (maxLength: number) =>
  fc.array(fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), { maxLength }).map((c) => c.join(''));
const piece = fc.oneof(headerText(40), unicodeText, base64urlText(60), fc.constantFrom('', '%', '%zz', '%00', '%C3', '%E2%80', 's:', 'undefined', 'null', '__proto__'));

/** One of a handful of changes to a valid value: every result stays sendable. */
function mutated(valid: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant(valid),
    fc.nat({ max: Math.max(valid.length - 1, 0) }).chain((at) => piece.map((p) => valid.slice(0, at) + p + valid.slice(at + 1))),
    fc.nat({ max: valid.length }).map((at) => valid.slice(0, at)),
    piece.map((p) => valid + p),
    piece.map((p) => p + valid),
    fc.integer({ min: 2, max: 4 }).map((times) => Array.from({ length: times }, () => valid).join('')),
    fc.constant(valid.toUpperCase()),
    fc.constant(encodeURIComponent(valid) + '%'),
  );
}

/** Text parts of a JWS: a header and payload from arbitrary JSON (or not JSON at all), any signature. */
const jwtSegment = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')),
  fc
    .record({
      alg: fc.constantFrom('HS256', 'none', 'RS256', 'ES256', 'EdDSA', 'hs256', '', 'HS512'),
      typ: fc.constantFrom('at+jwt', 'JWT', 'jwt', ''),
      kid: fc.oneof(fc.constantFrom('hs-1', 'hs-2', '../../etc', ''), fc.string({ maxLength: 10 })),
      crit: fc.constantFrom(undefined, ['b64'], ['exp'], 'b64'),
      b64: fc.constantFrom(undefined, false, true),
    })
    .map((h) => Buffer.from(JSON.stringify(h)).toString('base64url')),
  fc
    .record({
      sub: fc.oneof(fc.constantFrom('u-alice', 'u-root', ''), fc.integer(), fc.constant(null)),
      sid: fc.oneof(base64urlText(50), fc.integer(), fc.constant({})),
      exp: fc.oneof(fc.integer(), fc.double(), fc.constant('9999999999'), fc.constant(null)),
      iat: fc.oneof(fc.integer(), fc.constant(-1)),
      typ: fc.constantFrom('at+jwt', 'refresh'),
    })
    .map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')),
  base64urlText(80),
  piece,
);
const jwtIsh = fc.oneof(
  fc.tuple(jwtSegment, jwtSegment, jwtSegment).map((parts) => parts.join('.')),
  fc.array(jwtSegment, { minLength: 0, maxLength: 6 }).map((parts) => parts.join('.')),
);

/** A Structured Field-ish Signature-Input / Signature / Content-Digest value. */
const sfComponent = fc.constantFrom('"@method"', '"@target-uri"', '"@path"', '"@query"', '"@authority"', '"content-digest"', '"@status"', '"x"', '"@query-param";name="a"', '""', '@method', '"content-digest";sf', '"@request-response";key="sig1"');
const sfParam = fc.oneof(
  fc.integer({ min: -1e15, max: 1e15 }).map((n) => `;created=${n}`),
  fc.constant(`;created=${Math.floor(Date.now() / 1000)}`),
  fc.integer().map((n) => `;expires=${n}`),
  fc.constantFrom(';keyid="kid1"', ';keyid="kid2"', ';keyid="nope"', ';keyid=kid1', ';keyid=""', ';alg="hmac-sha256"', ';alg="rsa-pss-sha512"', ';tag="x"', ';created=1.5', ';created="1"', ';created=?1', ';nonce="n"', ';nonce=:AA==:'),
  headerText(10).map((t) => `;nonce="${t.replace(/["\\]/g, '')}"`),
  headerText(12).map((t) => `;${t}`),
);
const signatureInput = fc.oneof(
  fc
    .tuple(fc.constantFrom('sig1', 'sig2', 'Sig', '1x', '*', ''), fc.array(sfComponent, { maxLength: 6 }), fc.array(sfParam, { maxLength: 6 }))
    .map(([label, components, params]) => `${label}=(${components.join(' ')})${params.join('')}`),
  fc.array(headerText(30), { minLength: 1, maxLength: 3 }).map((parts) => parts.join(', ')),
);
const signatureValue = fc.oneof(
  fc.tuple(fc.constantFrom('sig1', 'sig2', ''), base64urlText(60)).map(([label, b]) => `${label}=:${b.replace(/-/g, '+').replace(/_/g, '/')}:`),
  fc.tuple(fc.constantFrom('sig1'), fc.uint8Array({ maxLength: 40 })).map(([label, bytes]) => `${label}=:${Buffer.from(bytes).toString('base64')}:`),
  headerText(60),
);
const contentDigest = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((bytes) => `sha-256=:${Buffer.from(bytes).toString('base64')}:`),
  fc.constantFrom('sha-512=:AAAA:', 'sha-256=:', 'sha-256=::', 'sha-256="x"', 'sha-256=:AA==:, sha-256=:AA==:', 'md5=:AA==:', ''),
  headerText(60),
);

/** A body: JSON of any shape, JSON with hostile keys, broken JSON, or not JSON at all. */
const bodyText = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc
    .record(
      {
        username: fc.oneof(fc.constantFrom('alice', 'root', ''), fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null), fc.array(fc.string())),
        password: fc.oneof(fc.constantFrom('alice-password', ''), fc.string({ maxLength: 2000 }), fc.constant({}), fc.boolean()),
        refreshToken: fc.oneof(base64urlText(60), fc.string({ maxLength: 100 }), fc.integer(), fc.constant([]), fc.constant(null)),
        value: fc.jsonValue({ maxDepth: 3 }),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '{"__proto__":{"polluted":true},"username":"alice","password":"alice-password"}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"value":{"__proto__":{"x":1}}}',
    '{"username":"alice","username":"root","password":"root-password"}',
    '[',
    '{"a":',
    '',
    'null',
    '"string"',
    '1e999',
    '\u0000',
    '{"password":"\ud800"}',
  ),
  fc.integer({ min: 10, max: 3000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.integer({ min: 10, max: 3000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/merge-patch+json',
  'application/octet-stream',
  'application/json;;;',
  undefined,
);

// ---------------------------------------------------------------------------------------------

const CLIENT_REFUSALS = new Set(['ERR_INVALID_CHAR', 'ERR_HTTP_INVALID_HEADER_VALUE', 'ERR_INVALID_HTTP_TOKEN']);

interface Tally {
  sent: number;
  notSent: number;
  statuses: Map<number, number>;
}

describe.each(ADAPTERS)('robustness over %s with the Redis store', (adapter: AdapterName) => {
  let app: INestApplication;
  const keyPrefix = uniqueKeyPrefix('robust');
  let tally: Tally = { sent: 0, notSent: 0, statuses: new Map() };
  const total: Tally = { sent: 0, notSent: 0, statuses: new Map() };
  const histogram = (t: Tally) =>
    [...t.statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}×${n}`)
      .join(' ');
  /** A live session of the seed user: cookie, CSRF token, access and refresh token. */
  let seed: { cookie: string; csrfToken: string; accessToken: string; refreshToken: string };

  async function loginSeed() {
    const response = await http(app).post('/auth/login').send(seedLogin()).expect(200);
    seed = {
      cookie: sessionCookieFrom(response),
      csrfToken: response.body.csrfToken as string,
      accessToken: response.body.accessToken as string,
      refreshToken: response.body.refreshToken as string,
    };
  }

  beforeAll(async () => {
    app = await createRobustApp(adapter, keyPrefix);
  });
  // A fresh live session for each property: one that a generated logout ended stays out of the next.
  beforeEach(async () => {
    tally = { sent: 0, notSent: 0, statuses: new Map() };
    await loginSeed();
  });
  afterEach(() => {
    if (tally.sent + tally.notSent === 0) return;
    console.log(`${expect.getState().currentTestName}: ${tally.sent} sent, ${tally.notSent} refused by the client; ${histogram(tally)}`);
    total.sent += tally.sent;
    total.notSent += tally.notSent;
    for (const [status, n] of tally.statuses) total.statuses.set(status, (total.statuses.get(status) ?? 0) + n);
  });

  afterAll(async () => {
    console.log(`robustness (${adapter}): ${total.sent} requests sent, ${total.notSent} refused by the client; ${histogram(total)}`);
    await app?.close();
  });

  /**
   * Sends one request; the status, or null when Node's client refused to send it. A 5xx, or a
   * connection the server dropped, fails the property with the input fast-check reports.
   */
  async function attempt(build: () => SuperTest): Promise<number | null> {
    let status: number;
    try {
      status = (await build()).status;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== undefined && CLIENT_REFUSALS.has(code)) {
        tally.notSent += 1;
        return null;
      }
      throw error;
    }
    tally.sent += 1;
    tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
    if (status >= 500) throw new Error(`answered ${status}`);
    return status;
  }

  const check = <T extends [unknown, ...unknown[]]>(seedValue: number, property: fc.IAsyncPropertyWithHooks<T>) =>
    fc.assert(property, { seed: seedValue, numRuns: RUNS, endOnFailure: true, interruptAfterTimeLimit: 20_000 });

  it('any Cookie header gets an answer below 500', async () => {
    const cookiePair = fc.oneof(
      { weight: 20, arbitrary: mutated(seed.cookie) },
      { weight: 20, arbitrary: fc.tuple(fc.constantFrom('sid', '__Host-sid', '__Secure-sid', 'SID', 'sid ', ' sid', 'refresh', 'x', ''), piece).map(([n, v]) => `${n}=${v}`) },
      { weight: 10, arbitrary: piece },
      // A small share left unfiltered (control characters, raw unicode): the client refuses
      // those itself, which counts as not sent.
      { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).map((raw) => `sid=${raw}`) },
    );
    const cookieHeader = fc.oneof(
      cookiePair,
      fc.array(cookiePair, { minLength: 2, maxLength: 40 }).map((pairs) => pairs.join('; ')),
      fc.tuple(cookiePair, fc.constantFrom(';', '; ', ',', ';;', ' ;\t')).map(([p, sep]) => `${p}${sep}${p}`),
      fc.integer({ min: 100, max: 9000 }).map((n) => `sid=${'a'.repeat(n)}`),
    );
    const route = fc.constantFrom('GET /auth/me', 'GET /probe/any', 'GET /probe/guarded', 'GET /auth/csrf', 'GET /auth/sessions', 'PUT /probe/data/k', 'PUT /probe/anonymous/k', 'POST /auth/logout');
    await check(
      SEEDS.cookie,
      fc.asyncProperty(cookieHeader, route, async (cookie, which) => {
        const [method, path] = which.split(' ');
        await attempt(() => {
          const req = method === 'GET' ? http(app).get(path) : method === 'PUT' ? http(app).put(path) : http(app).post(path);
          const withCookie = req.set('Cookie', cookie).set('x-csrf-token', seed.csrfToken);
          return method === 'GET' ? withCookie : withCookie.send({ value: 1 });
        });
      }),
    );
  });

  it('any Authorization header gets an answer below 500', async () => {
    const authorization = fc.oneof(
      jwtIsh.map((t) => `Bearer ${t}`),
      mutated(seed.accessToken).map((t) => `Bearer ${t}`),
      fc.tuple(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Bearer  ', '', 'Token', 'DPoP'), fc.oneof(jwtIsh, piece)).map(([s, t]) => `${s} ${t}`),
      fc.constant(`Bearer ${seed.accessToken}, Bearer x`),
      piece,
    );
    const route = fc.constantFrom('GET /probe/bearer', 'GET /probe/any', 'GET /auth/me', 'GET /auth/sessions', 'POST /auth/logout', 'POST /auth/refresh', 'GET /probe/admin');
    await check(
      SEEDS.bearer,
      fc.asyncProperty(authorization, route, async (header, which) => {
        const [method, path] = which.split(' ');
        await attempt(() => (method === 'GET' ? http(app).get(path) : http(app).post(path).send({})).set('Authorization', header));
      }),
    );
  });

  it('any x-csrf-token value gets an answer below 500', async () => {
    const token = fc.oneof(mutated(seed.csrfToken), piece, headerText(200), fc.array(base64urlText(43), { minLength: 2, maxLength: 5 }).map((t) => t.join(', ')));
    const route = fc.constantFrom('PUT /probe/data/k', 'POST /auth/confirm-password', 'DELETE /auth/sessions/not-a-session', 'POST /auth/no-such-route');
    await check(
      SEEDS.csrf,
      fc.asyncProperty(token, route, fc.boolean(), async (value, which, withCookie) => {
        const [, path] = which.split(' ');
        await attempt(() => {
          const base = path === '/probe/data/k' ? http(app).put(path) : path.startsWith('/auth/sessions/') ? http(app).delete(path) : http(app).post(path);
          const req = (withCookie ? base.set('Cookie', seed.cookie) : base).set('x-csrf-token', value);
          return path === '/auth/confirm-password' ? req.send({ password: SEED_PASSWORD }) : req.send({ value: 'x' });
        });
      }),
    );
  });

  it('any Signature-Input, Signature and Content-Digest gets an answer below 500', async () => {
    const target = fc.constantFrom('/m2m/orders/17', '/m2m/orders/17?priority=high', '/m2m/orders/%zz', '/m2m/orders/17?a=1&a=2');
    await check(
      SEEDS.signed,
      fc.asyncProperty(
        target,
        fc.option(bodyText, { nil: undefined }),
        fc.record({ input: fc.option(signatureInput), signature: fc.option(signatureValue), digest: fc.option(contentDigest) }),
        fc.constantFrom('valid', 'replace', 'mutate'),
        async (path, body, garbage, how) => {
          const valid = signRequest({ keyId: 'kid1', secret: SIGNING_KEYS.kid1, method: 'POST', target: path, body });
          const headers: Record<string, string> = { ...valid };
          const pick = (name: string, value: string | null) => {
            if (how === 'replace' && value !== null) headers[name] = value;
            if (how === 'mutate' && value !== null) headers[name] = (valid[name] ?? '') + value;
          };
          pick('signature-input', garbage.input);
          pick('signature', garbage.signature);
          pick('content-digest', garbage.digest);
          await attempt(() => {
            const req = http(app).post(path).set(headers);
            return body === undefined ? req : req.set('Content-Type', 'application/json').send(body);
          });
        },
      ),
    );
  });

  it('any body to login, refresh, logout, session data and confirm-password gets an answer below 500', async () => {
    const route = fc.constantFrom('POST /auth/login', 'POST /auth/refresh', 'POST /auth/logout', 'PUT /probe/data/k', 'POST /auth/confirm-password', 'PUT /probe/anonymous/k');
    // Bodies that carry the seed's own refresh token, as it is or changed.
    const withSeedToken = mutated(seed.refreshToken).map((refreshToken) => JSON.stringify({ refreshToken }));
    const body = fc.oneof({ weight: 4, arbitrary: bodyText }, { weight: 1, arbitrary: withSeedToken });
    await check(
      SEEDS.body,
      fc.asyncProperty(route, body, contentType, fc.constantFrom('none', 'cookie', 'bearer'), async (which, text, type, credential) => {
        const [method, path] = which.split(' ');
        const status = await attempt(() => {
          let req = method === 'PUT' ? http(app).put(path) : http(app).post(path);
          if (credential === 'cookie') req = req.set('Cookie', seed.cookie).set('x-csrf-token', seed.csrfToken);
          if (credential === 'bearer') req = req.set('Authorization', `Bearer ${seed.accessToken}`);
          if (type !== undefined) req = req.set('Content-Type', type);
          return req.send(text);
        });
        // A logout or refresh that worked may have ended or rotated the seed session: the next
        // runs get a live one again.
        if ((path === '/auth/logout' || path === '/auth/refresh') && status !== null && status < 300) await loginSeed();
      }),
    );
  });

  it('afterwards the app still answers and every key under its Redis prefix has a TTL', async () => {
    expect(app.getHttpServer().listening).toBe(true);
    await http(app).get('/probe/public').expect(200);
    // A fresh login still works: the process and the store are fine.
    await http(app).post('/auth/login').send(seedLogin()).expect(200);
    const { total, without } = await keysWithoutTtl(keyPrefix);
    console.log(`robustness (${adapter}): ${total} keys under ${keyPrefix}, ${without.length} without a TTL`);
    expect(total).toBeGreaterThan(0);
    expect(without).toEqual([]);
  });
});
