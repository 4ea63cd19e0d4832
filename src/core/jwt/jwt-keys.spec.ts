import { createPublicKey, createSecretKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { SessionConfigurationError } from '../errors.js';
import { JwtKeyRing, type JwtKeyOption } from './jwt-keys.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const ed = generateKeyPairSync('ed25519');
const pem = (key: KeyObject): string =>
  key.export({ type: key.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }) as string;

/** The option a configuration error names, or 'accepted'. */
function rejectionOf(keys: unknown): string {
  try {
    new JwtKeyRing(keys as JwtKeyOption[]);
  } catch (error) {
    expect(error).toBeInstanceOf(SessionConfigurationError);
    return (error as SessionConfigurationError).option;
  }
  return 'accepted';
}

const secretOf = (bytes: number): string => 'k'.repeat(bytes);

describe('JwtKeyRing', () => {
  describe('HS* secrets at least as long as the hash output (RFC 8725 §3.5)', () => {
    it.each([
      ['HS256', 32],
      ['HS384', 48],
      ['HS512', 64],
    ] as const)('%s: %i bytes accepted, one byte less rejected naming jwt.keys[i].secret', (alg, bytes) => {
      expect(rejectionOf([{ kid: 'a', alg, secret: secretOf(bytes) }])).toBe('accepted');
      expect(rejectionOf([{ kid: 'a', alg, secret: secretOf(bytes - 1) }])).toBe('jwt.keys[0].secret');
      expect(rejectionOf([{ kid: 'a', alg: 'HS256', secret: secretOf(32) }, { kid: 'b', alg, secret: secretOf(bytes - 1) }])).toBe(
        'jwt.keys[1].secret',
      );
    });

    it('counts bytes, not characters', () => {
      // 16 two-byte characters are 32 bytes.
      expect(rejectionOf([{ kid: 'a', alg: 'HS256', secret: 'é'.repeat(16) }])).toBe('accepted');
      expect(rejectionOf([{ kid: 'a', alg: 'HS256', secret: 'é'.repeat(15) + 'e' }])).toBe('jwt.keys[0].secret');
    });

    it('rejects a missing or non-string secret', () => {
      expect(rejectionOf([{ kid: 'a', alg: 'HS256' }])).toBe('jwt.keys[0].secret');
      expect(rejectionOf([{ kid: 'a', alg: 'HS256', secret: randomBytes(64) }])).toBe('jwt.keys[0].secret');
    });

    it('mentions the minimum in the message', () => {
      expect(() => new JwtKeyRing([{ kid: 'a', alg: 'HS384', secret: secretOf(47) }])).toThrow(/48 bytes/);
    });
  });

  describe('asymmetric keys fit their algorithm', () => {
    it('rejects RSA keys under 2048 bits', () => {
      const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
      expect(rejectionOf([{ kid: 'a', alg: 'RS256', privateKey: small.privateKey }])).toBe('jwt.keys[0]');
      expect(rejectionOf([{ kid: 'a', alg: 'RS256', privateKey: pem(small.privateKey) }])).toBe('jwt.keys[0]');
      expect(rejectionOf([{ kid: 'a', alg: 'RS256', privateKey: rsa.privateKey }, { kid: 'b', alg: 'RS256', publicKey: small.publicKey }])).toBe(
        'jwt.keys[1]',
      );
    });

    it.each(['secp384r1', 'secp256k1'])('rejects ES256 with the curve %s', (namedCurve) => {
      const other = generateKeyPairSync('ec', { namedCurve });
      expect(rejectionOf([{ kid: 'a', alg: 'ES256', privateKey: other.privateKey }])).toBe('jwt.keys[0]');
    });

    it('binds the key type to the algorithm (no Ed25519 as RS256, no RSA as ES256, …)', () => {
      expect(rejectionOf([{ kid: 'a', alg: 'RS256', privateKey: ed.privateKey }])).toBe('jwt.keys[0]');
      expect(rejectionOf([{ kid: 'a', alg: 'RS256', privateKey: pem(ec.privateKey) }])).toBe('jwt.keys[0]');
      expect(rejectionOf([{ kid: 'a', alg: 'ES256', privateKey: rsa.privateKey }])).toBe('jwt.keys[0]');
      expect(rejectionOf([{ kid: 'a', alg: 'EdDSA', privateKey: ec.privateKey }])).toBe('jwt.keys[0]');
      expect(rejectionOf([{ kid: 'a', alg: 'EdDSA', privateKey: generateKeyPairSync('ed448').privateKey }])).toBe('jwt.keys[0]');
    });

    it('rejects a key that is not a key', () => {
      expect(rejectionOf([{ kid: 'a', alg: 'RS256', privateKey: 'not a pem' }])).toBe('jwt.keys[0].privateKey');
      expect(rejectionOf([{ kid: 'a', alg: 'RS256', privateKey: rsa.privateKey }, { kid: 'b', alg: 'RS256', publicKey: 'x' }])).toBe(
        'jwt.keys[1].publicKey',
      );
      expect(rejectionOf([{ kid: 'a', alg: 'RS256' }])).toBe('jwt.keys[0]');
    });

    it('rejects a public key given as the private key (it could not sign)', () => {
      expect(rejectionOf([{ kid: 'a', alg: 'RS256', privateKey: pem(rsa.publicKey) }])).toBe('jwt.keys[0].privateKey');
      expect(rejectionOf([{ kid: 'a', alg: 'RS256', privateKey: rsa.publicKey }])).toBe('jwt.keys[0].privateKey');
    });

    it('rejects a secret KeyObject given as an asymmetric key with a configuration error', () => {
      expect(rejectionOf([{ kid: 'a', alg: 'RS256', privateKey: createSecretKey(randomBytes(32)) }])).not.toBe('accepted');
      expect(rejectionOf([{ kid: 'a', alg: 'ES256', publicKey: createSecretKey(randomBytes(32)) }, { kid: 'b', alg: 'ES256', publicKey: ec.publicKey }])).not.toBe(
        'accepted',
      );
    });

    it('rejects a privateKey and a publicKey that are not one pair', () => {
      expect(rejectionOf([{ kid: 'a', alg: 'RS256', privateKey: rsa.privateKey, publicKey: rsa2.publicKey }])).toBe('jwt.keys[0]');
    });

    it.each([
      ['RS256', rsa],
      ['ES256', ec],
      ['EdDSA', ed],
    ] as const)('%s: PEM strings and KeyObjects are both accepted, public key derived or given', (alg, pair) => {
      const variants: JwtKeyOption[] = [
        { kid: 'a', alg, privateKey: pair.privateKey },
        { kid: 'a', alg, privateKey: pem(pair.privateKey) },
        { kid: 'a', alg, privateKey: pem(pair.privateKey), publicKey: pem(pair.publicKey) },
        { kid: 'a', alg, privateKey: pair.privateKey, publicKey: pair.publicKey },
      ];
      for (const option of variants) {
        const ring = new JwtKeyRing([option]);
        expect(ring.signing.alg).toBe(alg);
        expect(ring.signing.signingKey?.type).toBe('private');
        expect(ring.signing.verificationKey.type).toBe('public');
        expect(ring.signing.verificationKey.equals(pair.publicKey)).toBe(true);
      }
    });
  });

  describe('the ring', () => {
    it.each(['none', 'HS1', 'RS512', 'ES384', 'PS256', 'hs256', 'toString', 'constructor', '__proto__', undefined])(
      'rejects the unknown alg %p naming jwt.keys[i].alg',
      (alg) => {
        expect(rejectionOf([{ kid: 'a', alg, secret: secretOf(64), privateKey: rsa.privateKey }])).toBe('jwt.keys[0].alg');
      },
    );

    it.each([undefined, '', 42, 'x'.repeat(129)])('rejects the kid %p', (kid) => {
      expect(rejectionOf([{ kid, alg: 'HS256', secret: secretOf(32) }])).toBe('jwt.keys[0].kid');
      expect(rejectionOf([{ kid: 'a', alg: 'HS256', secret: secretOf(32) }, { kid, alg: 'HS256', secret: secretOf(32) }])).toBe(
        'jwt.keys[1].kid',
      );
    });

    it('rejects a duplicate kid, whatever the algorithms', () => {
      expect(rejectionOf([{ kid: 'a', alg: 'HS256', secret: secretOf(32) }, { kid: 'a', alg: 'RS256', publicKey: rsa.publicKey }])).toBe(
        'jwt.keys',
      );
    });

    it.each([undefined, [], 'key', {}])('rejects keys %p', (keys) => {
      expect(rejectionOf(keys)).toBe('jwt.keys');
    });

    it('rejects a verify-only first key: the first key signs', () => {
      expect(rejectionOf([{ kid: 'a', alg: 'RS256', publicKey: rsa.publicKey }])).toBe('jwt.keys[0]');
      expect(rejectionOf([{ kid: 'a', alg: 'ES256', publicKey: pem(ec.publicKey) }, { kid: 'b', alg: 'ES256', privateKey: ec.privateKey }])).toBe(
        'jwt.keys[0]',
      );
    });

    it('accepts verify-only keys after the first, and finds each by kid only', () => {
      const ring = new JwtKeyRing([
        { kid: 'new', alg: 'ES256', privateKey: ec.privateKey },
        { kid: 'old-rsa', alg: 'RS256', publicKey: pem(rsa.publicKey) },
        { kid: 'old-ed', alg: 'EdDSA', publicKey: ed.publicKey },
        { kid: 'old-hs', alg: 'HS256', secret: secretOf(32) },
      ]);
      expect(ring.signing.kid).toBe('new');
      expect(ring.find('old-rsa')).toMatchObject({ alg: 'RS256', signingKey: null });
      expect(ring.find('old-ed')).toMatchObject({ alg: 'EdDSA', signingKey: null });
      expect(ring.find('old-rsa')!.verificationKey.equals(rsa.publicKey)).toBe(true);
      expect(ring.find('old-hs')!.alg).toBe('HS256');
      for (const kid of ['missing', undefined, null, 7, ['new'], { kid: 'new' }, '__proto__', 'toString', 'constructor']) {
        expect(ring.find(kid)).toBeUndefined();
      }
    });
  });

  describe('jwks()', () => {
    const hsSecret = 'hs-secret-'.padEnd(64, 'z');
    const ring = new JwtKeyRing([
      { kid: 'rsa-1', alg: 'RS256', privateKey: rsa.privateKey },
      { kid: 'hs-1', alg: 'HS512', secret: hsSecret },
      { kid: 'ec-1', alg: 'ES256', privateKey: pem(ec.privateKey) },
      { kid: 'ed-1', alg: 'EdDSA', privateKey: ed.privateKey, publicKey: ed.privateKey },
      { kid: 'rsa-old', alg: 'RS256', publicKey: pem(rsa2.privateKey) },
    ]);

    it('publishes exactly the asymmetric public keys with kid, alg and use: sig', () => {
      const { keys } = ring.jwks();
      expect(keys.map((key) => [key.kid, key.alg, key.use, key.kty])).toEqual([
        ['rsa-1', 'RS256', 'sig', 'RSA'],
        ['ec-1', 'ES256', 'sig', 'EC'],
        ['ed-1', 'EdDSA', 'sig', 'OKP'],
        ['rsa-old', 'RS256', 'sig', 'RSA'],
      ]);
      expect(keys[1]).toMatchObject({ crv: 'P-256' });
      expect(keys[2]).toMatchObject({ crv: 'Ed25519' });
      for (const jwk of keys) {
        const imported = createPublicKey({ key: jwk as never, format: 'jwk' });
        expect(imported.type).toBe('public');
      }
      expect(createPublicKey({ key: keys[0] as never, format: 'jwk' }).equals(rsa.publicKey)).toBe(true);
      expect(createPublicKey({ key: keys[3] as never, format: 'jwk' }).equals(rsa2.publicKey)).toBe(true);
    });

    it('never carries private parts or shared secrets', () => {
      const { keys } = ring.jwks();
      const text = JSON.stringify(ring.jwks());
      for (const jwk of keys) {
        for (const field of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']) expect(jwk).not.toHaveProperty(field);
      }
      expect(text).not.toContain(Buffer.from(hsSecret).toString('base64url'));
      expect(text).not.toContain(hsSecret);
      // A shared secret would be published as kty "oct"; the base64url moduli may well contain the letters.
      expect(keys.map((jwk) => jwk.kty)).not.toContain('oct');
      expect(keys.map((jwk) => jwk.kid)).not.toContain('hs-1');
    });

    it('is empty for an HS-only ring', () => {
      expect(new JwtKeyRing([{ kid: 'a', alg: 'HS256', secret: secretOf(32) }]).jwks()).toEqual({ keys: [] });
    });
  });
});
