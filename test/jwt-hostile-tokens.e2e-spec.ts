/**
 * SECURITY.md rows 1, 6, 11, 12, 13, 20 over HTTP: a catalogue of hostile bearer tokens, each
 * answered 401 with the generic body (never 500) on a JwtGuard route, for every key type and
 * both adapters. Tokens are built by hand with node:crypto. Tokens with a claim defect are signed
 * with the server's own key and carry a live session's sub/sid, so the one defect is the only
 * reason to refuse them; a control token built the same way without a defect gets 200.
 */
import 'reflect-metadata';
import { createHmac, generateKeyPairSync, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { toLowSEs256Signature } from '../src/core/jwt/ecdsa-signature.js';
import type { JwtAlgorithm, JwtKeyOption } from '../src/index.js';
import { ADAPTERS, createTestApp, TEST_USERS } from './support/test-app.js';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const GENERIC_401 = { message: 'Unauthorized', statusCode: 401 };
const DEFAULT_ISSUER = 'nestjs-session-auth';

interface KeyMaterial {
  alg: JwtAlgorithm;
  /** HMAC secret, or the private key. */
  signing: string | KeyObject;
  publicKey: KeyObject | null;
}

function material(alg: JwtAlgorithm): KeyMaterial {
  if (alg === 'HS256') return { alg, signing: randomBytes(32).toString('base64url'), publicKey: null };
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        : generateKeyPairSync('ed25519');
  return { alg, signing: pair.privateKey, publicKey: pair.publicKey };
}

interface Configuration {
  name: string;
  kid: string;
  server: KeyMaterial;
  attacker: KeyMaterial;
  option: JwtKeyOption;
}

function configuration(alg: JwtAlgorithm): Configuration {
  const server = material(alg);
  const kid = `${alg.toLowerCase()}-2026-01`;
  const option: JwtKeyOption =
    alg === 'HS256'
      ? { kid, alg, secret: server.signing as string }
      : { kid, alg, privateKey: (server.signing as KeyObject).export({ type: 'pkcs8', format: 'pem' }) as string };
  return { name: alg, kid, server, attacker: material(alg), option };
}

const CONFIGURATIONS: Configuration[] = (['HS256', 'RS256', 'ES256', 'EdDSA'] as const).map(configuration);

const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function signature(input: string, key: KeyMaterial): string {
  const data = Buffer.from(input);
  if (key.alg === 'HS256') return createHmac('sha256', key.signing).update(data).digest('base64url');
  if (key.alg === 'RS256') return cryptoSign('sha256', data, key.signing as KeyObject).toString('base64url');
  if (key.alg === 'ES256') {
    // The server accepts only the low-S form of an ECDSA signature, as it issues them.
    const signed = cryptoSign('sha256', data, { key: key.signing as KeyObject, dsaEncoding: 'ieee-p1363' });
    return toLowSEs256Signature(signed).toString('base64url');
  }
  return cryptoSign(null, data, key.signing as KeyObject).toString('base64url');
}

/** A compact JWS with any header and payload (JSON or raw text), signed by `key`. */
function jws(header: unknown, payload: unknown, key: KeyMaterial): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signature(input, key)}`;
}

function decode(token: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString('utf8')) as Record<string, unknown>;
}

function without(record: Record<string, unknown>, ...names: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([name]) => !names.includes(name)));
}

function flip(token: string, index: number, mask: number): string {
  const value = BASE64URL.indexOf(token[index]);
  return token.slice(0, index) + BASE64URL[value ^ mask] + token.slice(index + 1);
}

interface Context {
  config: Configuration;
  /** A genuine access token from POST /auth/login. */
  valid: string;
  refreshToken: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

const now = (): number => Math.floor(Date.now() / 1000);
/** A token like the server's, signed with the server's key, with changes to header and claims. */
const resign = (ctx: Context, header: Record<string, unknown> = {}, claims: Record<string, unknown> = {}): string =>
  jws({ ...ctx.header, ...header }, { ...ctx.claims, iat: now(), exp: now() + 300, ...claims }, ctx.config.server);

function publicJwk(key: KeyMaterial): Record<string, unknown> {
  if (key.publicKey === null) return { kty: 'oct', k: Buffer.from(key.signing as string).toString('base64url') };
  return key.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
}

function publicPem(config: Configuration): string {
  return config.server.publicKey!.export({ type: 'spki', format: 'pem' }) as string;
}

type Hostile = [name: string, make: (ctx: Context) => string, applies?: (config: Configuration) => boolean];

const asymmetric = (config: Configuration): boolean => config.server.alg !== 'HS256';

const CATALOGUE: Hostile[] = [
  // alg none (RFC 8725 §3.1), with the server's kid so only the alg is wrong.
  ...['none', 'None', 'NONE', 'nOnE'].flatMap((alg): Hostile[] => [
    [`alg ${alg}, empty signature`, (ctx) => `${b64({ ...ctx.header, alg })}.${b64(ctx.claims)}.`],
    [`alg ${alg}, garbage signature`, (ctx) => `${b64({ ...ctx.header, alg })}.${b64(ctx.claims)}.${randomBytes(32).toString('base64url')}`],
    [`alg ${alg}, no kid, empty signature`, (ctx) => `${b64({ alg, typ: 'at+jwt' })}.${b64(ctx.claims)}.`],
  ]),
  // Key confusion (RFC 8725 §3.2): HS256 with the server's public key as the HMAC secret.
  [
    'HS256 signed with the server public key PEM (key confusion)',
    (ctx) => {
      const input = `${b64({ ...ctx.header, alg: 'HS256' })}.${b64({ ...ctx.claims, exp: now() + 300 })}`;
      return `${input}.${createHmac('sha256', publicPem(ctx.config)).update(input).digest('base64url')}`;
    },
    asymmetric,
  ],
  [
    'HS256 signed with the server public key PEM, no trailing newline (key confusion)',
    (ctx) => {
      const input = `${b64({ ...ctx.header, alg: 'HS256' })}.${b64({ ...ctx.claims, exp: now() + 300 })}`;
      return `${input}.${createHmac('sha256', publicPem(ctx.config).trim()).update(input).digest('base64url')}`;
    },
    asymmetric,
  ],
  [
    'HS256 signed with the server public key as JWK JSON (key confusion)',
    (ctx) => {
      const input = `${b64({ ...ctx.header, alg: 'HS256' })}.${b64({ ...ctx.claims, exp: now() + 300 })}`;
      return `${input}.${createHmac('sha256', JSON.stringify(publicJwk(ctx.config.server))).update(input).digest('base64url')}`;
    },
    asymmetric,
  ],
  // Keys only from configuration (RFC 8725 §3.10): kid must name a configured key; jwk/jku/x5u/x5c ignored.
  ['foreign kid, signed by the server key', (ctx) => resign(ctx, { kid: 'attacker-2026' })],
  ['foreign kid, signed by the attacker key', (ctx) => jws({ ...ctx.header, kid: 'attacker-2026' }, { ...ctx.claims, exp: now() + 300 }, ctx.config.attacker)],
  ['no kid, signed by the server key', (ctx) => jws(without(ctx.header, 'kid'), { ...ctx.claims, exp: now() + 300 }, ctx.config.server)],
  [
    'embedded jwk of the attacker key, server kid, signed by the attacker',
    (ctx) => jws({ ...ctx.header, jwk: publicJwk(ctx.config.attacker) }, { ...ctx.claims, exp: now() + 300 }, ctx.config.attacker),
  ],
  [
    'embedded jwk of the attacker key, no kid, signed by the attacker',
    (ctx) => jws({ ...without(ctx.header, 'kid'), jwk: publicJwk(ctx.config.attacker) }, { ...ctx.claims, exp: now() + 300 }, ctx.config.attacker),
  ],
  [
    'embedded jwk of the attacker key with its own kid, signed by the attacker',
    (ctx) =>
      jws(
        { ...ctx.header, kid: 'attacker-2026', jwk: { ...publicJwk(ctx.config.attacker), kid: 'attacker-2026' } },
        { ...ctx.claims, exp: now() + 300 },
        ctx.config.attacker,
      ),
  ],
  [
    'jku pointing elsewhere, signed by the attacker',
    (ctx) => jws({ ...ctx.header, jku: 'https://attacker.example/.well-known/jwks.json' }, { ...ctx.claims, exp: now() + 300 }, ctx.config.attacker),
  ],
  [
    'x5u pointing elsewhere, signed by the attacker',
    (ctx) => jws({ ...ctx.header, x5u: 'https://attacker.example/cert.pem' }, { ...ctx.claims, exp: now() + 300 }, ctx.config.attacker),
  ],
  [
    'x5c with an attacker chain, signed by the attacker',
    (ctx) => jws({ ...ctx.header, x5c: [randomBytes(300).toString('base64')] }, { ...ctx.claims, exp: now() + 300 }, ctx.config.attacker),
  ],
  // Claims (row 12), signed by the server key.
  ['expired', (ctx) => resign(ctx, {}, { iat: now() - 3600, exp: now() - 60 })],
  ['exp equal to now', (ctx) => resign(ctx, {}, { exp: now() })],
  ['missing exp', (ctx) => jws(ctx.header, without({ ...ctx.claims, iat: now() }, 'exp'), ctx.config.server)],
  ['exp as a string', (ctx) => resign(ctx, {}, { exp: String(now() + 300) })],
  ['nbf in the future', (ctx) => resign(ctx, {}, { nbf: now() + 3600 })],
  ['wrong iss', (ctx) => resign(ctx, {}, { iss: 'https://attacker.example' })],
  ['missing iss', (ctx) => jws(ctx.header, without({ ...ctx.claims, exp: now() + 300 }, 'iss'), ctx.config.server)],
  ['wrong aud', (ctx) => resign(ctx, {}, { aud: 'another-api' })],
  ['aud array without our audience', (ctx) => resign(ctx, {}, { aud: ['another-api', 'third-api'] })],
  ['missing aud', (ctx) => jws(ctx.header, without({ ...ctx.claims, exp: now() + 300 }, 'aud'), ctx.config.server)],
  ['missing sub', (ctx) => jws(ctx.header, without({ ...ctx.claims, exp: now() + 300 }, 'sub'), ctx.config.server)],
  ['missing sid', (ctx) => jws(ctx.header, without({ ...ctx.claims, exp: now() + 300 }, 'sid'), ctx.config.server)],
  ['sub of another user on this session', (ctx) => resign(ctx, {}, { sub: TEST_USERS.root.user.id, roles: ['admin'] })],
  ['sid of a session that does not exist', (ctx) => resign(ctx, {}, { sid: `${(ctx.claims.sid as string).split('.')[0]}.${randomBytes(32).toString('base64url')}` })],
  ['sid that is not a sid', (ctx) => resign(ctx, {}, { sid: 'admin' })],
  ['roles not an array', (ctx) => resign(ctx, {}, { roles: 'admin' })],
  // Token type (RFC 9068, RFC 8725 §3.11).
  ['typ JWT', (ctx) => resign(ctx, { typ: 'JWT' })],
  ['typ missing', (ctx) => jws(without(ctx.header, 'typ'), { ...ctx.claims, exp: now() + 300 }, ctx.config.server)],
  ['typ refresh+jwt', (ctx) => resign(ctx, { typ: 'rt+jwt' })],
  ['the refresh token presented as a bearer token', (ctx) => ctx.refreshToken],
  // crit and b64 (row 13).
  ["crit: ['exp']", (ctx) => resign(ctx, { crit: ['exp'] })],
  ["crit: ['b64'] and b64: false", (ctx) => resign(ctx, { crit: ['b64'], b64: false })],
  [
    "crit: ['b64'] and b64: false, signed over the unencoded payload (RFC 7797)",
    (ctx) => {
      const header = b64({ ...ctx.header, crit: ['b64'], b64: false });
      const payload = JSON.stringify({ ...ctx.claims, exp: now() + 300 });
      return `${header}.${b64(payload)}.${signature(`${header}.${payload}`, ctx.config.server)}`;
    },
  ],
  ['crit with an unknown extension', (ctx) => resign(ctx, { crit: ['urn:attacker:ignore-me'], 'urn:attacker:ignore-me': true })],
  // Malformed (never a 500).
  ['two segments', (ctx) => ctx.valid.split('.').slice(0, 2).join('.')],
  ['four segments', (ctx) => `${ctx.valid}.${ctx.valid.split('.')[2]}`],
  ['five segments (JWE shape)', (ctx) => `${ctx.valid}..${ctx.valid.split('.')[2]}`],
  ['empty segments', () => '..'],
  ['empty signature segment', (ctx) => ctx.valid.replace(/[^.]+$/, '')],
  ['empty payload segment', (ctx) => ctx.valid.replace(/\.[^.]+\./, '..')],
  ['empty header segment', (ctx) => ctx.valid.replace(/^[^.]+/, '')],
  ['non-base64url characters', (ctx) => `${ctx.valid.slice(0, 20)}*%${ctx.valid.slice(22)}`],
  ['standard base64 characters', (ctx) => `${ctx.valid.slice(0, 20)}+/${ctx.valid.slice(22)}=`],
  ['header that is not JSON', (ctx) => `${b64('{"alg":"HS256",')}.${ctx.valid.split('.').slice(1).join('.')}`],
  ['header that is a JSON array', (ctx) => `${b64([ctx.header])}.${ctx.valid.split('.').slice(1).join('.')}`],
  ['header that is JSON null', (ctx) => `${b64('null')}.${ctx.valid.split('.').slice(1).join('.')}`],
  ['header that is not base64url of anything sensible', (ctx) => `${randomBytes(30).toString('base64url')}.${ctx.valid.split('.').slice(1).join('.')}`],
  ['payload that is not JSON (signed by the server key)', (ctx) => jws(ctx.header, 'this is not json', ctx.config.server)],
  ['payload that is JSON null (signed by the server key)', (ctx) => jws(ctx.header, 'null', ctx.config.server)],
  ['payload that is a JSON array (signed by the server key)', (ctx) => jws(ctx.header, [ctx.claims], ctx.config.server)],
  ['payload that is not JSON (unsigned)', (ctx) => `${ctx.valid.split('.')[0]}.${b64('{{{')}.${ctx.valid.split('.')[2]}`],
  // Size (checked before decoding).
  [
    'oversized: a validly signed token over 4096 characters',
    (ctx) => {
      const token = resign(ctx, {}, { pad: 'x'.repeat(3400) });
      expect(token.length).toBeGreaterThan(4096);
      return token;
    },
  ],
  ['oversized: 12 KB of base64url garbage', () => `${'e'.repeat(4000)}.${'e'.repeat(4000)}.${'e'.repeat(4000)}`],
  // One changed character (row 1).
  ['one character changed in the middle of the signature', (ctx) => flip(ctx.valid, ctx.valid.lastIndexOf('.') + 10, 32)],
  ['first signature character changed', (ctx) => flip(ctx.valid, ctx.valid.lastIndexOf('.') + 1, 1)],
  ['last signature character changed in bits the encoding leaves unused', (ctx) => flip(ctx.valid, ctx.valid.length - 1, 1)],
  ['one character changed in the payload', (ctx) => flip(ctx.valid, ctx.valid.indexOf('.') + 5, 1)],
  ['signature of another valid token', (ctx) => `${resign(ctx, {}, { roles: ['admin'] }).split('.').slice(0, 2).join('.')}.${ctx.valid.split('.')[2]}`],
];

interface Login {
  accessToken: string;
  refreshToken: string;
  body: Record<string, unknown>;
}

async function loginAlice(app: INestApplication): Promise<Login> {
  const response = await request(app.getHttpServer()).post('/auth/login').send({ username: 'alice', password: TEST_USERS.alice.password });
  expect(response.status).toBe(200);
  expect(typeof response.body.accessToken).toBe('string');
  return { accessToken: response.body.accessToken, refreshToken: response.body.refreshToken, body: response.body };
}

function probe(app: INestApplication, authorization?: string) {
  const req = request(app.getHttpServer()).get('/probe/bearer');
  return authorization === undefined ? req : req.set('Authorization', authorization);
}

async function expectGeneric401(response: request.Response): Promise<void> {
  expect({ status: response.status, body: response.body }).toEqual({ status: 401, body: GENERIC_401 });
}

describe.each(ADAPTERS)('hostile bearer tokens over %s', (adapter) => {
  describe.each(CONFIGURATIONS)('$name app', (config) => {
    let app: INestApplication;
    let ctx: Context;

    beforeAll(async () => {
      app = await createTestApp({ adapter, session: { mode: 'jwt', jwt: { keys: [config.option] } } });
      const { accessToken, refreshToken } = await loginAlice(app);
      ctx = { config, valid: accessToken, refreshToken, header: decode(accessToken, 0), claims: decode(accessToken, 1) };
      expect(ctx.header).toEqual({ alg: config.server.alg, typ: 'at+jwt', kid: config.kid });
      expect(ctx.claims).toMatchObject({ sub: 'u-alice', iss: DEFAULT_ISSUER, aud: DEFAULT_ISSUER });
    });

    afterAll(async () => {
      await app?.close();
    });

    it('a genuine token from login → 200', async () => {
      const response = await probe(app, `Bearer ${ctx.valid}`);
      expect(response.status).toBe(200);
      expect(response.body.user).toMatchObject({ id: 'u-alice' });
    });

    it('control: a token built by hand like the hostile ones, without a defect → 200', async () => {
      expect((await probe(app, `Bearer ${resign(ctx)}`)).status).toBe(200);
      expect((await probe(app, `Bearer ${resign(ctx, { typ: 'application/at+jwt' })}`)).status).toBe(200);
      expect((await probe(app, `Bearer ${resign(ctx, {}, { aud: ['another-api', DEFAULT_ISSUER] })}`)).status).toBe(200);
      expect((await probe(app, `Bearer ${resign(ctx, {}, { nbf: now() - 5 })}`)).status).toBe(200);
    });

    const applicable = CATALOGUE.filter(([, , applies]) => applies === undefined || applies(config));
    it.each(applicable.map(([name, make]) => [name, make] as const))('%s → 401', async (_name, make) => {
      const token = make(ctx);
      await expectGeneric401(await probe(app, `Bearer ${token}`));
    });

    it('a valid token of a session that was logged out → 401 (per-request revocation)', async () => {
      const { accessToken } = await loginAlice(app);
      expect((await probe(app, `Bearer ${accessToken}`)).status).toBe(200);
      const logout = await request(app.getHttpServer()).post('/auth/logout').set('Authorization', `Bearer ${accessToken}`);
      expect(logout.status).toBe(204);
      await expectGeneric401(await probe(app, `Bearer ${accessToken}`));
      // The other session is untouched.
      expect((await probe(app, `Bearer ${ctx.valid}`)).status).toBe(200);
    });

    describe('Authorization header variants', () => {
      it.each([
        ['no Authorization header', () => undefined],
        ['Bearer with no token', () => 'Bearer'],
        ['Bearer and a space', () => 'Bearer '],
        ['the token without a scheme', (c: Context) => c.valid],
        ['two tokens separated by a space', (c: Context) => `Bearer ${c.valid} ${c.valid}`],
        ['two tokens separated by a comma', (c: Context) => `Bearer ${c.valid}, Bearer ${c.valid}`],
        ['two tokens with a comma and no space', (c: Context) => `Bearer ${c.valid},${c.valid}`],
        ['Basic credentials of a real user', () => `Basic ${Buffer.from('alice:alice-password').toString('base64')}`],
        ['Basic with the token', (c: Context) => `Basic ${c.valid}`],
        ['another scheme with the token', (c: Context) => `Token ${c.valid}`],
        ['BearerX', (c: Context) => `BearerX ${c.valid}`],
        ['a tab instead of the space', (c: Context) => `Bearer\t${c.valid}`],
      ])('%s → 401', async (_name, value) => {
        await expectGeneric401(await probe(app, value(ctx)));
      });

      it("scheme names are case-insensitive (RFC 6750 §2.1 ABNF, RFC 9110 §11.1): 'bearer' and 'BEARER' → 200", async () => {
        expect((await probe(app, `bearer ${ctx.valid}`)).status).toBe(200);
        expect((await probe(app, `BEARER ${ctx.valid}`)).status).toBe(200);
      });

      it('a token in the URL is never read (row 20)', async () => {
        for (const query of ['access_token', 'token', 'accessToken', 'authorization']) {
          await expectGeneric401(await request(app.getHttpServer()).get(`/probe/bearer?${query}=${ctx.valid}`));
        }
        await expectGeneric401(await request(app.getHttpServer()).get(`/probe/bearer?authorization=${encodeURIComponent(`Bearer ${ctx.valid}`)}`));
      });

      it('a token in a cookie is not a bearer token', async () => {
        for (const name of ['access_token', 'sid', 'Authorization']) {
          await expectGeneric401(await request(app.getHttpServer()).get('/probe/bearer').set('Cookie', `${name}=${ctx.valid}`));
        }
      });
    });
  });
});
