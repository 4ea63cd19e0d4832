import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { NestJwsEngine } from '../../nest/jws-engine.js';
import { InvalidSessionError } from '../errors.js';
import type { ResolvedJwtOptions } from '../session-options.js';
import { newSessionToken, randomSlotTag, refOf, type SessionRef } from '../session-token.js';
import { JwtKeyRing } from './jwt-keys.js';
import { parseRefreshToken, refOfSid, sidOf, TokenIssuer } from './token-issuer.js';

const START = Math.floor(Date.now() / 1000) * 1000;
let nowMs = START;
const clock = (): number => nowMs;

const OPTIONS: ResolvedJwtOptions = {
  keys: new JwtKeyRing([{ kid: 'k1', alg: 'HS256', secret: 'token-issuer-spec-secret-'.padEnd(32, '!') }]),
  issuer: 'https://issuer.test',
  audience: 'api://test',
  accessTokenTtlMs: 15 * 60_000,
  refreshTokenTtlMs: 7 * 86_400_000,
  revocation: 'per-request',
  refreshTokenTransport: 'body',
  refreshCookiePath: '/auth',
  refreshReuseGraceMs: 0,
};
const USER = { id: 'u-alice', roles: ['user'] };

const issuer = new TokenIssuer(OPTIONS, new NestJwsEngine(new JwtService({})), clock);
const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

function sampleRef(): SessionRef {
  return refOf(newSessionToken(randomSlotTag()));
}

function rejectionOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSessionError);
    return (error as InvalidSessionError).reason;
  }
  return 'accepted';
}

beforeEach(() => {
  nowMs = START;
});

describe('refresh tokens', () => {
  it('are tag.digest.secret: the session’s slot tag and digest, then 256 random bits', () => {
    const ref = sampleRef();
    const { token } = issuer.mintRefreshToken(ref, START + 30 * 86_400_000);
    const [tag, digest, secret, ...rest] = token.split('.');
    expect(rest).toEqual([]);
    expect(tag).toBe(ref.tag);
    expect(digest).toBe(ref.digest);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
  });

  it('get a fresh secret each time', () => {
    const ref = sampleRef();
    const secrets = new Set(Array.from({ length: 200 }, () => issuer.mintRefreshToken(ref, START + 86_400_000).token.split('.')[2]));
    expect(secrets.size).toBe(200);
  });

  it('are stored as the SHA-256 digest of the whole token, so a changed session part does not match', () => {
    const ref = sampleRef();
    const { token, state } = issuer.mintRefreshToken(ref, START + 30 * 86_400_000);
    const secret = token.split('.')[2];
    expect(Object.keys(state).sort()).toEqual(['digest', 'expiresAt']);
    expect(state.digest).toBe(sha256(token));
    expect(parseRefreshToken(token).digest).toBe(state.digest);
    const [tag, digest] = token.split('.');
    const last = digest.at(-1) === 'A' ? 'B' : 'A';
    expect(parseRefreshToken(`${tag}.${digest.slice(0, -1)}${last}.${secret}`).digest).not.toBe(state.digest);
    const stored = JSON.stringify(state);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(token);
  });

  it('expire after refreshTokenTtl, but never after the family’s absolute expiry', () => {
    const ref = sampleRef();
    expect(issuer.mintRefreshToken(ref, START + 30 * 86_400_000).state.expiresAt).toBe(START + OPTIONS.refreshTokenTtlMs);
    expect(issuer.mintRefreshToken(ref, START + 3_600_000).state.expiresAt).toBe(START + 3_600_000);
    nowMs = START + 1000;
    expect(issuer.mintRefreshToken(ref, START + 30 * 86_400_000).state.expiresAt).toBe(START + 1000 + OPTIONS.refreshTokenTtlMs);
  });

  it('parse back to the session, the secret, and the digest the store compares', () => {
    const ref = sampleRef();
    const { token, state } = issuer.mintRefreshToken(ref, START + 86_400_000);
    expect(parseRefreshToken(token)).toEqual({ ref, secret: token.split('.')[2], digest: state.digest });
  });

  it('parseRefreshToken rejects an access token', () => {
    const ref = sampleRef();
    const refresh = issuer.mintRefreshToken(ref, START + 86_400_000);
    const { accessToken } = issuer.pair(USER, ref, refresh, START + 86_400_000);
    expect(accessToken.split('.')).toHaveLength(3);
    expect(rejectionOf(() => parseRefreshToken(accessToken))).toBe('malformed');
  });

  it('an access token never verifies a refresh token, and a refresh token is never an access token', () => {
    const ref = sampleRef();
    const refresh = issuer.mintRefreshToken(ref, START + 86_400_000);
    expect(rejectionOf(() => issuer.accessTokens.verify(refresh.token))).not.toBe('accepted');
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', { token: 'x' }],
    ['an array', ['a', 'b', 'c']],
    ['empty', ''],
    ['garbage', 'not-a-refresh-token'],
    ['two segments', `${'A'.repeat(12)}.${'B'.repeat(43)}`],
    ['four segments', `${'A'.repeat(12)}.${'B'.repeat(43)}.${'C'.repeat(43)}.${'D'.repeat(43)}`],
    ['a short tag', `${'A'.repeat(11)}.${'B'.repeat(43)}.${'C'.repeat(43)}`],
    ['a long secret', `${'A'.repeat(12)}.${'B'.repeat(43)}.${'C'.repeat(44)}`],
    ['a short secret', `${'A'.repeat(12)}.${'B'.repeat(43)}.${'C'.repeat(42)}`],
    ['a non-base64url character', `${'A'.repeat(12)}.${'B'.repeat(43)}.${'C'.repeat(42)}+`],
    ['padding', `${'A'.repeat(12)}.${'B'.repeat(43)}.${'C'.repeat(42)}=`],
    ['a trailing newline', `${'A'.repeat(12)}.${'B'.repeat(43)}.${'C'.repeat(43)}\n`],
    ['a leading space', ` ${'A'.repeat(12)}.${'B'.repeat(43)}.${'C'.repeat(43)}`],
    ['a session cookie value shape', `${'A'.repeat(12)}.${'B'.repeat(43)}`],
  ])('parseRefreshToken rejects %s', (_name, value) => {
    expect(rejectionOf(() => parseRefreshToken(value))).toBe('malformed');
  });
});

describe('sid', () => {
  it('sidOf / refOfSid round trip', () => {
    const ref = sampleRef();
    const sid = sidOf(ref);
    expect(sid).toBe(`${ref.tag}.${ref.digest}`);
    expect(refOfSid(sid)).toEqual(ref);
  });

  it('is the sid claim of the pair’s access token', () => {
    const ref = sampleRef();
    const refresh = issuer.mintRefreshToken(ref, START + 86_400_000);
    const pair = issuer.pair(USER, ref, refresh, START + 86_400_000);
    expect(pair).toMatchObject({ refreshToken: refresh.token, tokenType: 'Bearer', expiresIn: 900 });
    const claims = issuer.accessTokens.verify(pair.accessToken);
    expect(claims.sid).toBe(sidOf(ref));
    expect(refOfSid(claims.sid)).toEqual(ref);
  });

  it('does not carry the session token itself', () => {
    const token = newSessionToken(randomSlotTag());
    expect(sidOf(refOf(token))).not.toContain(token.token);
  });

  it.each([
    '',
    'x',
    `${'A'.repeat(12)}`,
    `${'A'.repeat(12)}.`,
    `${'A'.repeat(12)}.${'B'.repeat(42)}`,
    `${'A'.repeat(12)}.${'B'.repeat(44)}`,
    `${'A'.repeat(11)}.${'B'.repeat(43)}`,
    `${'A'.repeat(12)}.${'B'.repeat(43)}.${'C'.repeat(43)}`,
    `${'A'.repeat(12)}.${'B'.repeat(42)}+`,
    `${'A'.repeat(12)}.${'B'.repeat(43)}\n`,
    `${'A'.repeat(12)}:${'B'.repeat(43)}`,
  ])('refOfSid rejects %p', (sid) => {
    expect(rejectionOf(() => refOfSid(sid))).toBe('malformed');
  });
});
