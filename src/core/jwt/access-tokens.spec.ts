import 'reflect-metadata';
import { jest } from '@jest/globals';
import { createHmac, generateKeyPairSync, randomBytes, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { NestJwsEngine } from '../../nest/jws-engine.js';
import { InvalidSessionError } from '../errors.js';
import { ACCESS_TOKEN_TYPE, AccessTokens, MAX_ACCESS_TOKEN_LENGTH } from './access-tokens.js';
import { edDsaJws, type JwsEngine } from './jws.js';
import { JwtKeyRing, type JwtAlgorithm, type JwtKey, type JwtKeyOption } from './jwt-keys.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const ed = generateKeyPairSync('ed25519');

const KEY_OPTIONS: Record<JwtAlgorithm, JwtKeyOption> = {
  HS256: { kid: 'hs256', alg: 'HS256', secret: 'hs256-secret-'.padEnd(32, '0') },
  HS384: { kid: 'hs384', alg: 'HS384', secret: 'hs384-secret-'.padEnd(48, '0') },
  HS512: { kid: 'hs512', alg: 'HS512', secret: 'hs512-secret-'.padEnd(64, '0') },
  RS256: { kid: 'rs256', alg: 'RS256', privateKey: rsa.privateKey },
  ES256: { kid: 'es256', alg: 'ES256', privateKey: ec.privateKey },
  EdDSA: { kid: 'eddsa', alg: 'EdDSA', privateKey: ed.privateKey },
};
const ALGORITHMS = Object.keys(KEY_OPTIONS) as JwtAlgorithm[];

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const SETTINGS = { issuer: 'https://issuer.test', audience: 'api://orders', accessTokenTtlMs: 15 * 60_000 };
const USER = { id: 'u-1', roles: ['user', 'auditor'] };
const SID = 'AAAAAAAAAAAA.' + 'B'.repeat(43);
/** The test's clock: whole seconds, moved by hand. */
const START = Math.floor(Date.now() / 1000) * 1000;
let nowMs = START;
const clock = (): number => nowMs;

const nestEngine = new NestJwsEngine(new JwtService({}));
/** The engine the module uses: @nestjs/jwt for HS/RS/ES, node:crypto for EdDSA. */
const engine: JwsEngine = nestEngine;

/** A new key for `alg` with the given kid, unrelated to KEY_OPTIONS. */
function freshKeyOption(alg: JwtAlgorithm, kid: string): JwtKeyOption {
  if (alg.startsWith('HS')) return { kid, alg, secret: randomBytes(64).toString('base64url') };
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        : generateKeyPairSync('ed25519');
  return { kid, alg, privateKey: pair.privateKey };
}

interface Setup {
  ring: JwtKeyRing;
  key: JwtKey;
  tokens: AccessTokens;
}

function setup(alg: JwtAlgorithm, extra: JwtKeyOption[] = []): Setup {
  const ring = new JwtKeyRing([KEY_OPTIONS[alg], ...extra]);
  return { ring, key: ring.signing, tokens: new AccessTokens(ring, engine, SETTINGS, clock) };
}

const segment = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A compact JWS built by hand with node:crypto: whatever header and payload, signed with `key`. */
function forge(header: unknown, payload: unknown, key: JwtKey, alg: JwtAlgorithm = key.alg): string {
  const input = `${segment(header)}.${segment(payload)}`;
  const data = Buffer.from(input);
  const signingKey = key.signingKey!;
  let signature: Buffer;
  if (alg.startsWith('HS')) signature = createHmac(`sha${alg.slice(2)}`, signingKey).update(data).digest();
  else if (alg === 'RS256') signature = cryptoSign('sha256', data, signingKey);
  else if (alg === 'ES256') signature = lowS(cryptoSign('sha256', data, { key: signingKey, dsaEncoding: 'ieee-p1363' }));
  else signature = cryptoSign(null, data, signingKey);
  return `${input}.${signature.toString('base64url')}`;
}

/** The order n of P-256, written out here so the tests do not lean on the code under test. */
const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const sOf = (signature: Buffer): bigint => BigInt(`0x${signature.subarray(32).toString('hex')}`);

/** (r, n − s): the other ECDSA signature that verifies for the same message and key. */
function twinOf(signature: Buffer): Buffer {
  return Buffer.concat([signature.subarray(0, 32), Buffer.from((P256_N - sOf(signature)).toString(16).padStart(64, '0'), 'hex')]);
}

/** A signer that normalises as the issuer does, so hand-made ES256 tokens are accepted deterministically. */
function lowS(signature: Buffer): Buffer {
  return sOf(signature) > P256_N / 2n ? twinOf(signature) : signature;
}

function headerFor(key: JwtKey, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { alg: key.alg, typ: ACCESS_TOKEN_TYPE, kid: key.kid, ...overrides };
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(nowMs / 1000);
  return {
    sub: USER.id,
    sid: SID,
    jti: 'jti-0123456789abcdef',
    iat: now,
    exp: now + 600,
    iss: SETTINGS.issuer,
    aud: SETTINGS.audience,
    roles: ['user'],
    ...overrides,
  };
}

function without(record: Record<string, unknown>, name: string): Record<string, unknown> {
  const { [name]: _dropped, ...rest } = record;
  return rest;
}

/** 'accepted', or the reason of the InvalidSessionError (anything else fails the test). */
function outcome(tokens: AccessTokens, token: string): string {
  try {
    tokens.verify(token);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSessionError);
    return (error as InvalidSessionError).reason;
  }
  return 'accepted';
}

function decodeSegment(token: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString('utf8')) as Record<string, unknown>;
}

beforeEach(() => {
  nowMs = START;
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe.each(ALGORITHMS)('AccessTokens with %s', (alg) => {
  const { key, tokens, ring } = setup(alg);

  it('issue → verify round trip', () => {
    const { accessToken, expiresIn } = tokens.issue(USER, SID, START + 86_400_000);
    expect(expiresIn).toBe(900);
    const verified = tokens.verify(accessToken);
    expect(verified).toEqual({
      sub: 'u-1',
      sid: SID,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22,}$/),
      iat: START / 1000,
      exp: START / 1000 + 900,
      iss: SETTINGS.issuer,
      aud: SETTINGS.audience,
      roles: ['user', 'auditor'],
    });
  });

  it("puts alg, typ 'at+jwt' and kid in the header, and every claim in the payload", () => {
    const { accessToken } = tokens.issue(USER, SID, START + 86_400_000);
    expect(decodeSegment(accessToken, 0)).toEqual({ alg, typ: 'at+jwt', kid: key.kid });
    const payload = decodeSegment(accessToken, 1);
    expect(payload).toMatchObject({ sub: 'u-1', sid: SID, iat: START / 1000, exp: START / 1000 + 900, iss: SETTINGS.issuer, aud: SETTINGS.audience });
    expect(typeof payload.jti).toBe('string');
  });

  it('gives each token its own jti', () => {
    const jtis = new Set(Array.from({ length: 20 }, () => tokens.verify(tokens.issue(USER, SID, START + 86_400_000).accessToken).jti));
    expect(jtis.size).toBe(20);
  });

  it('caps exp at the given deadline (the family’s absolute expiry)', () => {
    const { accessToken, expiresIn } = tokens.issue(USER, SID, START + 60_000);
    expect(expiresIn).toBe(60);
    expect(decodeSegment(accessToken, 1).exp).toBe(START / 1000 + 60);
    nowMs = START + 59_000;
    expect(outcome(tokens, accessToken)).toBe('accepted');
    nowMs = START + 60_000;
    expect(outcome(tokens, accessToken)).toBe('expired');
  });

  it('expires at exp by the injected clock', () => {
    const { accessToken } = tokens.issue(USER, SID, START + 86_400_000);
    nowMs = START + 899_000;
    expect(outcome(tokens, accessToken)).toBe('accepted');
    nowMs = START + 900_000;
    expect(outcome(tokens, accessToken)).not.toBe('accepted');
  });

  it('keeps checking a token it has verified before: a forged twin of it is refused, and its expiry still holds', () => {
    const { accessToken } = tokens.issue(USER, SID, START + 86_400_000);
    nowMs = START;
    expect(outcome(tokens, accessToken)).toBe('accepted');
    const dot = accessToken.lastIndexOf('.');
    const signature = Buffer.from(accessToken.slice(dot + 1), 'base64url');
    signature[0] ^= 1;
    expect(outcome(tokens, `${accessToken.slice(0, dot + 1)}${signature.toString('base64url')}`)).toBe('bad-signature');
    const payload = accessToken.slice(accessToken.indexOf('.') + 1, dot);
    const otherClaims = segment({ ...decodeSegment(accessToken, 1), roles: ['admin'] });
    expect(outcome(tokens, accessToken.replace(payload, otherClaims))).toBe('bad-signature');
    expect(outcome(tokens, accessToken)).toBe('accepted');
    nowMs = START + 900_000;
    expect(outcome(tokens, accessToken)).toBe('expired');
  });

  it('follows the injected clock, not the wall clock, for a token issued and verified at the same instant', () => {
    nowMs = START - 2 * 86_400_000;
    const { accessToken } = tokens.issue(USER, SID, nowMs + 86_400_000);
    expect(outcome(tokens, accessToken)).toBe('accepted');
  });

  it('control: a token forged by hand with the right key and header is accepted', () => {
    // Proves `forge` is faithful, so each rejection below is due to the one thing changed.
    expect(outcome(tokens, forge(headerFor(key), claims(), key))).toBe('accepted');
    expect(outcome(tokens, forge(headerFor(key, { typ: 'application/at+jwt' }), claims(), key))).toBe('accepted');
    expect(outcome(tokens, forge(headerFor(key, { typ: 'AT+JWT' }), claims(), key))).toBe('accepted');
  });

  it('accepts an aud array that contains the audience', () => {
    expect(outcome(tokens, forge(headerFor(key), claims({ aud: ['api://other', SETTINGS.audience] }), key))).toBe('accepted');
    expect(tokens.verify(forge(headerFor(key), claims({ aud: ['api://other', SETTINGS.audience] }), key)).aud).toBe(SETTINGS.audience);
  });

  describe('rejects with InvalidSessionError', () => {
    it('a token longer than MAX_ACCESS_TOKEN_LENGTH, before decoding anything', () => {
      const near = (target: number): string => {
        const base = forge(headerFor(key), claims({ pad: '' }), key);
        let length = Math.max(0, Math.floor(((target - base.length) * 3) / 4) - 4);
        let token: string;
        do token = forge(headerFor(key), claims({ pad: 'x'.repeat(length++) }), key);
        while (token.length < target - 3);
        return token;
      };
      const fits = near(MAX_ACCESS_TOKEN_LENGTH);
      expect(fits.length).toBeLessThanOrEqual(MAX_ACCESS_TOKEN_LENGTH);
      expect(fits.length).toBeGreaterThan(MAX_ACCESS_TOKEN_LENGTH - 4);
      expect(outcome(tokens, fits)).toBe('accepted');
      const over = near(MAX_ACCESS_TOKEN_LENGTH + 4);
      expect(over.length).toBeGreaterThan(MAX_ACCESS_TOKEN_LENGTH);
      const huge = `${segment(headerFor(key))}.${'A'.repeat(1_000_000)}.AAAA`;
      const parse = jest.spyOn(JSON, 'parse');
      const verify = jest.spyOn(engine, 'verify');
      const from = jest.spyOn(Buffer, 'from');
      expect(outcome(tokens, over)).toBe('malformed');
      expect(outcome(tokens, huge)).toBe('malformed');
      expect(parse).not.toHaveBeenCalled();
      expect(verify).not.toHaveBeenCalled();
      expect(from).not.toHaveBeenCalled();
    });

    it.each([
      ['no dot', (t: string) => t.replace(/\./g, '')],
      ['two segments', (t: string) => t.split('.').slice(0, 2).join('.')],
      ['four segments', (t: string) => `${t}.${t.split('.')[2]}`],
      ['an empty signature', (t: string) => t.replace(/\.[^.]+$/, '.')],
      ['an empty payload', (t: string) => t.replace(/\.[^.]+\./, '..')],
      ['an empty header', (t: string) => t.replace(/^[^.]+/, '')],
      ['padding', (t: string) => `${t}=`],
      ['standard base64 characters', (t: string) => t.replace(/^(.)/, '+')],
      ['a space', (t: string) => `${t.slice(0, 10)} ${t.slice(10)}`],
      ['a non-ASCII character', (t: string) => `${t.slice(0, 10)}é${t.slice(11)}`],
      ['an empty string', () => ''],
      ['only dots', () => '..'],
    ])('wrong segments: %s', (_name, mangle) => {
      const { accessToken } = tokens.issue(USER, SID, START + 86_400_000);
      expect(outcome(tokens, mangle(accessToken))).not.toBe('accepted');
    });

    it.each([
      ['not JSON', 'alg:HS256'],
      ['a JSON array', JSON.stringify([{ alg: 'HS256' }])],
      ['JSON null', 'null'],
      ['a JSON string', '"at+jwt"'],
      ['a JSON number', '256'],
    ])('a header that is %s', (_name, text) => {
      const valid = forge(headerFor(key), claims(), key);
      const [, payload, signature] = valid.split('.');
      expect(outcome(tokens, `${Buffer.from(text).toString('base64url')}.${payload}.${signature}`)).not.toBe('accepted');
    });

    it('an unknown, missing or non-string kid, or a kid of another configured key', () => {
      expect(outcome(tokens, forge(headerFor(key, { kid: 'foreign' }), claims(), key))).not.toBe('accepted');
      expect(outcome(tokens, forge(without(headerFor(key), 'kid'), claims(), key))).not.toBe('accepted');
      expect(outcome(tokens, forge(headerFor(key, { kid: [key.kid] }), claims(), key))).not.toBe('accepted');
      expect(outcome(tokens, forge(headerFor(key, { kid: { toString: key.kid } }), claims(), key))).not.toBe('accepted');
      expect(outcome(tokens, forge(headerFor(key, { kid: '__proto__' }), claims(), key))).not.toBe('accepted');
      // Another key of the same algorithm, listed after this one: each token verifies only under the key its kid names.
      const other = freshKeyOption(alg, 'other');
      const both = new JwtKeyRing([KEY_OPTIONS[alg], other]);
      const bothTokens = new AccessTokens(both, engine, SETTINGS, clock);
      const otherKey = both.find('other')!;
      expect(outcome(bothTokens, forge(headerFor(otherKey), claims(), otherKey))).toBe('accepted');
      expect(outcome(bothTokens, forge(headerFor(key), claims(), key))).toBe('accepted');
      expect(outcome(bothTokens, forge(headerFor(key, { kid: 'other' }), claims(), key))).not.toBe('accepted');
      expect(outcome(bothTokens, forge(headerFor(otherKey, { kid: key.kid }), claims(), otherKey))).not.toBe('accepted');
    });

    it('an alg that is not the key’s one algorithm, including none in any spelling', () => {
      for (const other of [...ALGORITHMS.filter((name) => name !== alg), 'none', 'None', 'NONE', 'nOnE', '', 'HS256 ', alg.toLowerCase()]) {
        expect(outcome(tokens, forge(headerFor(key, { alg: other }), claims(), key))).not.toBe('accepted');
        const unsigned = `${segment(headerFor(key, { alg: other }))}.${segment(claims())}.`;
        expect(outcome(tokens, unsigned)).not.toBe('accepted');
      }
      expect(outcome(tokens, forge(without(headerFor(key), 'alg'), claims(), key))).not.toBe('accepted');
    });

    it.each([
      ['missing', undefined],
      ['JWT', 'JWT'],
      ['jwt', 'jwt'],
      ['at+jwt with spaces', ' at+jwt'],
      ['application/jwt', 'application/jwt'],
      ['refresh+jwt', 'refresh+jwt'],
      ['a number', 1],
      ['an array', ['at+jwt']],
    ])('typ %s', (_name, typ) => {
      const header = typ === undefined ? without(headerFor(key), 'typ') : headerFor(key, { typ });
      expect(outcome(tokens, forge(header, claims(), key))).not.toBe('accepted');
    });

    it.each([
      ['crit with an unknown name', { crit: ['urn:example:unknown'] }],
      ['crit naming exp', { crit: ['exp'] }],
      ['crit empty', { crit: [] }],
      ['crit null', { crit: null }],
      ['crit false', { crit: false }],
      ['b64: false with crit', { b64: false, crit: ['b64'] }],
      ['b64: false alone', { b64: false }],
      ['b64: true', { b64: true }],
    ])('%s', (_name, extra) => {
      expect(outcome(tokens, forge(headerFor(key, extra), claims(), key))).not.toBe('accepted');
    });

    it('a signature with any one character changed', () => {
      const token = forge(headerFor(key), claims(), key);
      const dot = token.lastIndexOf('.');
      const accepted: string[] = [];
      for (let index = dot + 1; index < token.length; index++) {
        const value = BASE64URL.indexOf(token[index]);
        // Flip the lowest and the highest of the character's six bits.
        for (const replacement of [BASE64URL[value ^ 1], BASE64URL[value ^ 32]]) {
          const tampered = token.slice(0, index) + replacement + token.slice(index + 1);
          if (outcome(tokens, tampered) === 'accepted') accepted.push(`${index - dot - 1}:${token[index]}→${replacement}`);
        }
      }
      expect(accepted).toEqual([]);
    });

    it('a signature whose last character differs only in bits the encoding leaves unused (non-canonical base64url)', () => {
      const token = forge(headerFor(key), claims(), key);
      const last = BASE64URL.indexOf(token[token.length - 1]);
      const tampered = token.slice(0, -1) + BASE64URL[last ^ 1];
      expect(tampered).not.toBe(token);
      expect(outcome(tokens, tampered)).not.toBe('accepted');
    });

    it('a header or payload with one character changed', () => {
      const token = forge(headerFor(key), claims(), key);
      const payloadStart = token.indexOf('.') + 1;
      for (const index of [0, 5, payloadStart, payloadStart + 7, token.lastIndexOf('.') - 1]) {
        const replacement = token[index] === 'A' ? 'B' : 'A';
        expect(outcome(tokens, token.slice(0, index) + replacement + token.slice(index + 1))).not.toBe('accepted');
      }
    });

    it('a token signed by another key of the same algorithm', () => {
      const foreignRing = new JwtKeyRing([freshKeyOption(alg, key.kid)]);
      expect(foreignRing.signing.kid).toBe(key.kid);
      expect(outcome(tokens, forge(headerFor(key), claims(), foreignRing.signing))).not.toBe('accepted');
      expect(outcome(tokens, new AccessTokens(foreignRing, engine, SETTINGS, clock).issue(USER, SID, START + 86_400_000).accessToken)).not.toBe(
        'accepted',
      );
    });

    it('an expired token, and one without exp', () => {
      const now = START / 1000;
      expect(outcome(tokens, forge(headerFor(key), claims({ iat: now - 100, exp: now - 1 }), key))).not.toBe('accepted');
      expect(outcome(tokens, forge(headerFor(key), claims({ exp: now }), key))).not.toBe('accepted');
      expect(outcome(tokens, forge(headerFor(key), without(claims(), 'exp'), key))).not.toBe('accepted');
      expect(outcome(tokens, forge(headerFor(key), claims({ exp: String(now + 600) }), key))).not.toBe('accepted');
      expect(outcome(tokens, forge(headerFor(key), claims({ exp: null }), key))).not.toBe('accepted');
    });

    it('nbf in the future (nbf now or past is fine)', () => {
      const now = START / 1000;
      expect(outcome(tokens, forge(headerFor(key), claims({ nbf: now + 60 }), key))).not.toBe('accepted');
      expect(outcome(tokens, forge(headerFor(key), claims({ nbf: String(now - 60) }), key))).not.toBe('accepted');
      expect(outcome(tokens, forge(headerFor(key), claims({ nbf: now }), key))).toBe('accepted');
      expect(outcome(tokens, forge(headerFor(key), claims({ nbf: now - 60 }), key))).toBe('accepted');
    });

    it('a wrong or missing iss', () => {
      for (const iss of ['https://evil.test', 'https://issuer.test/', 'HTTPS://ISSUER.TEST', '', null, [SETTINGS.issuer]]) {
        expect(outcome(tokens, forge(headerFor(key), claims({ iss }), key))).not.toBe('accepted');
      }
      expect(outcome(tokens, forge(headerFor(key), without(claims(), 'iss'), key))).not.toBe('accepted');
    });

    it('a wrong or missing aud', () => {
      for (const aud of ['api://other', 'api://orders/', [], ['api://other'], null, { aud: SETTINGS.audience }]) {
        expect(outcome(tokens, forge(headerFor(key), claims({ aud }), key))).not.toBe('accepted');
      }
      expect(outcome(tokens, forge(headerFor(key), without(claims(), 'aud'), key))).not.toBe('accepted');
    });

    it.each(['sub', 'sid', 'jti', 'iat'])('a missing or non-string %s', (name) => {
      expect(outcome(tokens, forge(headerFor(key), without(claims(), name), key))).not.toBe('accepted');
      expect(outcome(tokens, forge(headerFor(key), claims({ [name]: name === 'iat' ? 'now' : 42 }), key))).not.toBe('accepted');
    });

    it.each([
      ['a string', 'admin'],
      ['an object', { 0: 'admin' }],
      ['an array with a number', ['user', 1]],
      ['null', null],
    ])('roles that are %s', (_name, roles) => {
      expect(outcome(tokens, forge(headerFor(key), claims({ roles }), key))).not.toBe('accepted');
    });

    it('a payload that is not a JSON object, even when signed', () => {
      for (const payload of ['null', '[]', '42', '"text"', 'not json']) {
        expect(outcome(tokens, forge(headerFor(key), payload, key))).not.toBe('accepted');
      }
    });

    it('a refresh token presented as an access token', () => {
      const refresh = `${'A'.repeat(12)}.${'B'.repeat(43)}.${'C'.repeat(43)}`;
      expect(outcome(tokens, refresh)).not.toBe('accepted');
    });
  });

  if (!alg.startsWith('HS')) {
    it('rejects HS256 signed with the public key (key confusion)', () => {
      const publicPem = key.verificationKey.export({ type: 'spki', format: 'pem' }) as string;
      for (const material of [publicPem, publicPem.trim(), key.verificationKey.export({ type: 'spki', format: 'der' })]) {
        const input = `${segment(headerFor(key, { alg: 'HS256' }))}.${segment(claims())}`;
        const signature = createHmac('sha256', material).update(input).digest('base64url');
        expect(outcome(tokens, `${input}.${signature}`)).not.toBe('accepted');
      }
      expect(ring.jwks().keys).toHaveLength(1);
    });
  }
});

describe('AccessTokens with ES256 signatures (malleability)', () => {
  const { key, tokens } = setup('ES256');
  const signatureOf = (token: string) => Buffer.from(token.split('.')[2], 'base64url');
  const withSignature = (token: string, signature: Buffer) => `${token.slice(0, token.lastIndexOf('.'))}.${signature.toString('base64url')}`;

  it('refuses the twin (r, n − s) of a valid signature with 401, while the original still verifies', () => {
    const { accessToken } = tokens.issue(USER, SID, START + 86_400_000);
    const twin = withSignature(accessToken, twinOf(signatureOf(accessToken)));
    const input = Buffer.from(accessToken.slice(0, accessToken.lastIndexOf('.')));
    // The twin is a genuine signature: plain ECDSA verification accepts it.
    expect(cryptoVerify('sha256', input, { key: key.verificationKey, dsaEncoding: 'ieee-p1363' }, signatureOf(twin))).toBe(true);
    expect(outcome(tokens, accessToken)).toBe('accepted');
    expect(outcome(tokens, twin)).toBe('bad-signature');
  });

  it('issues only low-S signatures, so its own tokens are never refused', () => {
    const issued = Array.from({ length: 40 }, () => tokens.issue(USER, SID, START + 86_400_000).accessToken);
    expect(issued.filter((token) => sOf(signatureOf(token)) > P256_N / 2n).length).toBe(0);
    expect(issued.map((token) => outcome(tokens, token)).filter((result) => result !== 'accepted')).toEqual([]);
  });
});

describe('AccessTokens key ring', () => {
  it('verifies a token signed by an older, still-listed key; rejects it once the key is removed', () => {
    const older = new JwtKeyRing([KEY_OPTIONS.ES256]);
    const oldToken = new AccessTokens(older, engine, SETTINGS, clock).issue(USER, SID, START + 86_400_000).accessToken;
    const rotated = new JwtKeyRing([KEY_OPTIONS.RS256, { kid: 'es256', alg: 'ES256', publicKey: ec.publicKey }]);
    expect(outcome(new AccessTokens(rotated, engine, SETTINGS, clock), oldToken)).toBe('accepted');
    const retired = new JwtKeyRing([KEY_OPTIONS.RS256]);
    expect(outcome(new AccessTokens(retired, engine, SETTINGS, clock), oldToken)).not.toBe('accepted');
  });

  it('signs with the first key only', () => {
    const ring = new JwtKeyRing([KEY_OPTIONS.EdDSA, KEY_OPTIONS.HS256]);
    const token = new AccessTokens(ring, engine, SETTINGS, clock).issue(USER, SID, START + 86_400_000).accessToken;
    expect(decodeSegment(token, 0)).toMatchObject({ alg: 'EdDSA', kid: 'eddsa' });
  });

  it('uses the given engine only after the header checks pass', () => {
    const ring = new JwtKeyRing([KEY_OPTIONS.HS256]);
    const spy: JwsEngine = { sign: nestEngine.sign.bind(nestEngine), verify: jest.fn(() => claims()) };
    const tokens = new AccessTokens(ring, spy, SETTINGS, clock);
    expect(outcome(tokens, forge(headerFor(ring.signing, { alg: 'none' }), claims(), ring.signing))).not.toBe('accepted');
    expect(outcome(tokens, forge(headerFor(ring.signing, { crit: ['exp'] }), claims(), ring.signing))).not.toBe('accepted');
    expect(spy.verify).not.toHaveBeenCalled();
  });

  it('edDsaJws signs RFC 8037 tokens that an independent verifier accepts', async () => {
    const { jwtVerify, importSPKI } = await import('jose');
    const ring = new JwtKeyRing([KEY_OPTIONS.EdDSA]);
    const token = edDsaJws.sign(claims(), { alg: 'EdDSA', typ: 'at+jwt', kid: 'eddsa' }, ring.signing);
    const publicKey = await importSPKI(ed.publicKey.export({ type: 'spki', format: 'pem' }) as string, 'EdDSA');
    const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
      issuer: SETTINGS.issuer,
      audience: SETTINGS.audience,
      typ: 'at+jwt',
      currentDate: new Date(nowMs),
    });
    expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: 'eddsa' });
    expect(payload.sub).toBe(USER.id);
  });
});
