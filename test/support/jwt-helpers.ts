/**
 * Helpers for the JWT and hybrid e2e suites: test keys generated at module load (never written
 * in code), an app factory for jwt/hybrid mode, token login and refresh, bearer requests, and a
 * probe that rotates a bearer-authenticated session (the shared ProbeController's promote route
 * is cookie-only).
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { Controller, Inject, Post, UseGuards, type INestApplication } from '@nestjs/common';
import type { Response } from 'supertest';
import {
  AuthService,
  CurrentSession,
  CurrentUser,
  JwtGuard,
  type AuthUser,
  type JwtKeyOption,
  type JwtOptions,
  type Session,
  type SessionModuleOptions,
  type SessionStoreOption,
} from '../../src/index.js';
import { http } from './http-helpers.js';
import { createTestApp, TEST_USERS, type AdapterName } from './test-app.js';

/** A fresh HS256 secret: 32 random bytes, base64url (43 characters). */
export function hs256Secret(): string {
  return randomBytes(32).toString('base64url');
}

function keyPair(type: 'rsa' | 'ec' | 'ed25519'): { privateKey: KeyObject; publicKey: KeyObject } {
  if (type === 'rsa') return generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (type === 'ec') return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return generateKeyPairSync('ed25519');
}

const rsa = keyPair('rsa');
const ec1 = keyPair('ec');
const ec2 = keyPair('ec');
const ed = keyPair('ed25519');

/** Keys for the suites, each a ready `jwt.keys` entry (with its private part where it has one). */
export const TEST_KEYS = {
  hs1: { kid: 'hs-1', alg: 'HS256', secret: hs256Secret() },
  hs2: { kid: 'hs-2', alg: 'HS256', secret: hs256Secret() },
  rs1: { kid: 'rs-1', alg: 'RS256', privateKey: rsa.privateKey },
  es1: { kid: 'es-1', alg: 'ES256', privateKey: ec1.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string },
  es2: { kid: 'es-2', alg: 'ES256', privateKey: ec2.privateKey },
  ed1: { kid: 'ed-1', alg: 'EdDSA', privateKey: ed.privateKey },
} satisfies Record<string, JwtKeyOption>;

const PUBLIC_KEYS: Record<string, KeyObject> = {
  [TEST_KEYS.rs1.kid]: rsa.publicKey,
  [TEST_KEYS.es1.kid]: ec1.publicKey,
  [TEST_KEYS.es2.kid]: ec2.publicKey,
  [TEST_KEYS.ed1.kid]: ed.publicKey,
};

/** The same asymmetric key without its private part: it can only verify. */
export function verifyOnly(key: JwtKeyOption): JwtKeyOption {
  const publicKey = PUBLIC_KEYS[key.kid];
  if (publicKey === undefined) throw new Error(`${key.kid} is not an asymmetric test key`);
  return { kid: key.kid, alg: key.alg, publicKey };
}

@Controller('jwt-probe')
export class JwtProbeController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  /** Privilege change for a bearer caller: grants admin and rotates the token family. */
  @Post('promote')
  @UseGuards(JwtGuard)
  async promote(@CurrentUser() user: AuthUser, @CurrentSession() session: Session) {
    const tokens = await this.auth.rotate(session, { ...user, roles: [...(user.roles ?? []), 'admin'] });
    return { ok: true, ...tokens };
  }
}

export interface JwtAppOptions {
  adapter: AdapterName;
  store: SessionStoreOption;
  /** Default: 'jwt'. */
  mode?: 'jwt' | 'hybrid';
  /** Merged over `{ keys: [TEST_KEYS.hs1] }`. */
  jwt?: Partial<JwtOptions>;
  /** Other module options (timeouts, cookie). */
  session?: Partial<SessionModuleOptions>;
  trustProxy?: boolean;
}

export function createJwtApp(options: JwtAppOptions): Promise<INestApplication> {
  return createTestApp({
    adapter: options.adapter,
    trustProxy: options.trustProxy,
    controllers: [JwtProbeController],
    session: {
      ...options.session,
      mode: options.mode ?? 'jwt',
      store: options.store,
      jwt: { keys: [TEST_KEYS.hs1], ...options.jwt },
    },
  });
}

export interface TokenLogin {
  response: Response;
  accessToken: string;
  /** Empty when the refresh token travels in a cookie. */
  refreshToken: string;
}

export async function tokenLogin(
  app: INestApplication,
  username: keyof typeof TEST_USERS & string = 'alice',
  headers: Record<string, string> = {},
): Promise<TokenLogin> {
  let req = http(app).post('/auth/login').send({ username, password: TEST_USERS[username].password });
  for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
  const response = await req;
  if (response.status !== 200) throw new Error(`login of ${username} answered ${response.status}: ${response.text}`);
  const body = response.body as { accessToken?: unknown; refreshToken?: unknown };
  if (typeof body.accessToken !== 'string') throw new Error(`login answered no access token: ${response.text}`);
  return { response, accessToken: body.accessToken, refreshToken: typeof body.refreshToken === 'string' ? body.refreshToken : '' };
}

/** POST /auth/refresh with `{ refreshToken }` in the body. */
export function refreshWith(app: INestApplication, refreshToken: unknown) {
  return http(app).post('/auth/refresh').send({ refreshToken });
}

/** GET `path` with `Authorization: Bearer <token>`. */
export function withBearer(app: INestApplication, path: string, token: string) {
  return http(app).get(path).set('Authorization', `Bearer ${token}`);
}

export async function bearerStatus(app: INestApplication, token: string, path = '/probe/bearer'): Promise<number> {
  return (await withBearer(app, path, token)).status;
}

export async function refreshStatus(app: INestApplication, refreshToken: string): Promise<number> {
  return (await refreshWith(app, refreshToken)).status;
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** Header and payload of a compact JWS, without any check: for asserting what was issued. */
export function decodeJwt(token: string): DecodedJwt {
  const [header, payload] = token.split('.');
  const json = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: json(header), payload: json(payload) };
}

export function noStore(response: Response): boolean {
  return /(^|,)\s*no-store\s*(,|$)/i.test(String(response.headers['cache-control'] ?? ''));
}
