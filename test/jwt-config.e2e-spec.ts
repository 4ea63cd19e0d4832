/**
 * JWT-mode configuration at boot: every mistake fails app creation with a
 * SessionConfigurationError naming the option; the defaults are those documented.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { SessionConfigurationError, type SessionModuleOptions } from '../src/index.js';
import type { ResolvedSessionOptions } from '../src/core/session-options.js';
import { RESOLVED_SESSION_OPTIONS } from '../src/nest/session.constants.js';
import { ADAPTERS, createTestApp, TEST_USERS } from './support/test-app.js';

const HS256_KEY = { kid: 'k1', alg: 'HS256' as const, secret: randomBytes(32).toString('base64url') };
const DAY = 86_400_000;

/** The option named by the error app creation fails with. */
async function bootFailure(adapter: (typeof ADAPTERS)[number], session: Record<string, unknown>): Promise<string> {
  let app: INestApplication | undefined;
  try {
    app = await createTestApp({ adapter, session: session as Partial<SessionModuleOptions> });
  } catch (error) {
    expect(error).toBeInstanceOf(SessionConfigurationError);
    return (error as SessionConfigurationError).option;
  }
  await app.close();
  throw new Error(`the app booted with ${JSON.stringify(session)}`);
}

describe.each(ADAPTERS)('jwt configuration over %s', (adapter) => {
  describe('fails at boot with SessionConfigurationError naming the option', () => {
    it.each<[string, Record<string, unknown>, string]>([
      ["mode 'jwt' without jwt options", { mode: 'jwt' }, 'jwt'],
      ["mode 'hybrid' without jwt options", { mode: 'hybrid' }, 'jwt'],
      ["mode 'jwt' with jwt: null", { mode: 'jwt', jwt: null }, 'jwt'],
      ['jwt options in session mode', { mode: 'session', jwt: { keys: [HS256_KEY] } }, 'jwt'],
      ['jwt options with the default (session) mode', { jwt: { keys: [HS256_KEY] } }, 'jwt'],
      ['no keys', { mode: 'jwt', jwt: {} }, 'jwt.keys'],
      ['an empty key list', { mode: 'jwt', jwt: { keys: [] } }, 'jwt.keys'],
      ['a short HS256 secret', { mode: 'jwt', jwt: { keys: [{ ...HS256_KEY, secret: 'x'.repeat(31) }] } }, 'jwt.keys[0].secret'],
      ['a short HS512 secret', { mode: 'jwt', jwt: { keys: [{ kid: 'k1', alg: 'HS512', secret: 'x'.repeat(63) }] } }, 'jwt.keys[0].secret'],
      [
        'a short secret on a later, verify-only key',
        { mode: 'jwt', jwt: { keys: [HS256_KEY, { kid: 'k0', alg: 'HS256', secret: 'short-old-secret' }] } },
        'jwt.keys[1].secret',
      ],
      ['an unknown alg', { mode: 'jwt', jwt: { keys: [{ ...HS256_KEY, alg: 'none' }] } }, 'jwt.keys[0].alg'],
      ['a key without kid', { mode: 'jwt', jwt: { keys: [{ alg: 'HS256', secret: HS256_KEY.secret }] } }, 'jwt.keys[0].kid'],
      ['accessTokenTtl longer than refreshTokenTtl', { mode: 'jwt', jwt: { keys: [HS256_KEY], accessTokenTtl: '2d', refreshTokenTtl: '1d' } }, 'jwt.accessTokenTtl'],
      [
        'refreshTokenTtl longer than absoluteTimeout',
        { mode: 'jwt', absoluteTimeout: '7d', jwt: { keys: [HS256_KEY], refreshTokenTtl: '8d' } },
        'jwt.refreshTokenTtl',
      ],
      ['refreshTokenTtl longer than the default absoluteTimeout (30d)', { mode: 'jwt', jwt: { keys: [HS256_KEY], refreshTokenTtl: '31d' } }, 'jwt.refreshTokenTtl'],
      ['an unknown jwt option (typo)', { mode: 'jwt', jwt: { keys: [HS256_KEY], acessTokenTtl: '5m' } }, 'jwt.acessTokenTtl'],
      ['an unknown jwt option (secret)', { mode: 'jwt', jwt: { keys: [HS256_KEY], secret: HS256_KEY.secret } }, 'jwt.secret'],
      ['an unknown jwt option (algorithms)', { mode: 'jwt', jwt: { keys: [HS256_KEY], algorithms: ['HS256', 'none'] } }, 'jwt.algorithms'],
      ['a bad revocation value', { mode: 'jwt', jwt: { keys: [HS256_KEY], revocation: 'never' } }, 'jwt.revocation'],
      ['revocation: true', { mode: 'jwt', jwt: { keys: [HS256_KEY], revocation: true } }, 'jwt.revocation'],
      ['a bad refreshTokenTransport value', { mode: 'jwt', jwt: { keys: [HS256_KEY], refreshTokenTransport: 'query' } }, 'jwt.refreshTokenTransport'],
      ['refreshTokenTransport in another case', { mode: 'jwt', jwt: { keys: [HS256_KEY], refreshTokenTransport: 'Cookie' } }, 'jwt.refreshTokenTransport'],
      ['a bad accessTokenTtl', { mode: 'jwt', jwt: { keys: [HS256_KEY], accessTokenTtl: 'soon' } }, 'jwt.accessTokenTtl'],
      ['an empty issuer', { mode: 'jwt', jwt: { keys: [HS256_KEY], issuer: '' } }, 'jwt.issuer'],
      ['an audience that is not a string', { mode: 'jwt', jwt: { keys: [HS256_KEY], audience: ['a', 'b'] } }, 'jwt.audience'],
      ['an unknown mode', { mode: 'JWT', jwt: { keys: [HS256_KEY] } }, 'mode'],
    ])('%s', async (_name, session, option) => {
      expect(await bootFailure(adapter, session)).toBe(option);
    });
  });

  describe('defaults', () => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await createTestApp({ adapter, session: { mode: 'jwt', jwt: { keys: [HS256_KEY] } } });
    });

    afterAll(async () => {
      await app?.close();
    });

    it('accessTokenTtl is 15m: login answers expiresIn 900, the token lives 900 s', async () => {
      const response = await request(app.getHttpServer()).post('/auth/login').send({ username: 'alice', password: TEST_USERS.alice.password });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { id: 'u-alice' } });
      expect(typeof response.body.refreshToken).toBe('string');
      const claims = JSON.parse(Buffer.from(response.body.accessToken.split('.')[1], 'base64url').toString('utf8'));
      expect(claims.exp - claims.iat).toBe(900);
      expect(Math.abs(claims.iat - Date.now() / 1000)).toBeLessThan(30);
    });

    it('jwt mode sets no session cookie', async () => {
      const response = await request(app.getHttpServer()).post('/auth/login').send({ username: 'alice', password: TEST_USERS.alice.password });
      expect(response.headers['set-cookie']).toBeUndefined();
    });

    it('absoluteTimeout (the token family lifetime) is 30d, refreshTokenTtl 7d, revocation per-request, transport body', () => {
      const options = app.get<ResolvedSessionOptions>(RESOLVED_SESSION_OPTIONS);
      expect(options.absoluteTimeoutMs).toBe(30 * DAY);
      expect(options.jwt).toMatchObject({
        accessTokenTtlMs: 15 * 60_000,
        refreshTokenTtlMs: 7 * DAY,
        revocation: 'per-request',
        refreshTokenTransport: 'body',
        issuer: 'nestjs-session-auth',
        audience: 'nestjs-session-auth',
      });
    });

    it('a refreshTokenTtl of 30d fits the default absoluteTimeout in jwt mode (it would not fit 12h)', async () => {
      const longer = await createTestApp({ adapter, session: { mode: 'jwt', jwt: { keys: [HS256_KEY], refreshTokenTtl: '30d' } } });
      try {
        expect(longer.get<ResolvedSessionOptions>(RESOLVED_SESSION_OPTIONS).absoluteTimeoutMs).toBe(30 * DAY);
      } finally {
        await longer.close();
      }
    });

    it('session mode keeps its own 12h default', async () => {
      const sessionApp = await createTestApp({ adapter });
      try {
        expect(sessionApp.get<ResolvedSessionOptions>(RESOLVED_SESSION_OPTIONS).absoluteTimeoutMs).toBe(12 * 60 * 60_000);
      } finally {
        await sessionApp.close();
      }
    });

    it('an explicit accessTokenTtl is honoured in the login answer', async () => {
      const custom = await createTestApp({ adapter, session: { mode: 'jwt', jwt: { keys: [HS256_KEY], accessTokenTtl: '5m' } } });
      try {
        const response = await request(custom.getHttpServer()).post('/auth/login').send({ username: 'alice', password: TEST_USERS.alice.password });
        expect(response.body.expiresIn).toBe(300);
      } finally {
        await custom.close();
      }
    });
  });
});
