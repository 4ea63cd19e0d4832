import { createHmac, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { CompactSign } from 'jose';
import { JwtService } from '@nestjs/jwt';
import { JwsVerifier } from './jws-verifier.js';
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
const PAYLOAD = { sub: 'u-1', sid: 'AAAAAAAAAAAA.' + 'B'.repeat(43), roles: ['user'], exp: 2_000_000_000 };

const keyFor = (alg: JwtAlgorithm): JwtKey => new JwtKeyRing([KEY_OPTIONS[alg]]).signing;
/** Another key of the same algorithm, unrelated to the first. */
function otherKeyFor(alg: JwtAlgorithm): JwtKey {
  const option: JwtKeyOption = alg.startsWith('HS')
    ? { kid: 'other', alg, secret: `other-${alg}-secret`.padEnd(64, '1') }
    : {
        kid: 'other',
        alg,
        privateKey: (alg === 'RS256'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : alg === 'ES256'
            ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
            : generateKeyPairSync('ed25519')
        ).privateKey,
      };
  return new JwtKeyRing([option]).signing;
}

/** Signed by jose, an implementation independent of the code under test. */
async function joseToken(key: JwtKey, payload: unknown = PAYLOAD, header: Record<string, unknown> = {}): Promise<string> {
  const bytes = new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return new CompactSign(bytes).setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header }).sign(key.signingKey!);
}

const verifier = new JwsVerifier();
const accepts = (token: string, key: JwtKey): boolean => {
  try {
    verifier.verify(token, key);
    return true;
  } catch {
    return false;
  }
};
const withSignature = (token: string, signature: Buffer): string => `${token.slice(0, token.lastIndexOf('.'))}.${signature.toString('base64url')}`;
const signatureOf = (token: string): Buffer => Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');

describe.each(ALGORITHMS)('JwsVerifier with %s', (alg) => {
  const key = keyFor(alg);

  it('accepts a token signed with the key by an independent implementation, and returns its payload', async () => {
    expect(verifier.verify(await joseToken(key), key)).toEqual(PAYLOAD);
  });

  it('refuses the token under another key of the same algorithm', async () => {
    expect(accepts(await joseToken(key), otherKeyFor(alg))).toBe(false);
  });

  it('refuses a changed payload, a changed header and a changed signature', async () => {
    const token = await joseToken(key);
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...PAYLOAD, roles: ['admin'] })).toString('base64url');
    expect(accepts(`${header}.${forged}.${signature}`, key)).toBe(false);
    const otherHeader = (await joseToken(key, PAYLOAD, { kid: 'another' })).split('.')[0];
    expect(accepts(`${otherHeader}.${token.split('.')[1]}.${signature}`, key)).toBe(false);
    const flipped = Buffer.from(signatureOf(token));
    flipped[flipped.length - 1] ^= 1;
    expect(accepts(withSignature(token, flipped), key)).toBe(false);
  });

  it('refuses a signature one byte short or long, and an empty one', async () => {
    const token = await joseToken(key);
    const signature = signatureOf(token);
    expect(accepts(withSignature(token, signature.subarray(0, signature.length - 1)), key)).toBe(false);
    expect(accepts(withSignature(token, Buffer.concat([signature, Buffer.from([0])])), key)).toBe(false);
    expect(accepts(withSignature(token, Buffer.alloc(0)), key)).toBe(false);
  });

  it('refuses anything but three segments', async () => {
    const token = await joseToken(key);
    expect(accepts(token.split('.').slice(0, 2).join('.'), key)).toBe(false);
    expect(accepts(`${token}.${token.split('.')[2]}`, key)).toBe(false);
    expect(accepts(token.replace(/\./g, ''), key)).toBe(false);
  });

  it('agrees with jsonwebtoken (@nestjs/jwt, which verified before) on one-character changes of a genuine token', async () => {
    if (alg === 'EdDSA') return; // jsonwebtoken has no EdDSA; covered by jose above.
    const token = await joseToken(key);
    const jwt = new JwtService({});
    const secretOrKey = alg.startsWith('HS') ? { secret: key.verificationKey } : { publicKey: key.verificationKey };
    const jsonwebtokenAccepts = (candidate: string): boolean => {
      try {
        jwt.verify(candidate, { ...secretOrKey, algorithms: [alg as 'HS256'], ignoreExpiration: true } as never);
        return true;
      } catch {
        return false;
      }
    };
    expect([accepts(token, key), jsonwebtokenAccepts(token)]).toEqual([true, true]);
    let changed = 0;
    for (let index = 0; index < token.length; index += 3) {
      if (token[index] === '.') continue;
      const candidate = `${token.slice(0, index)}${token[index] === 'A' ? 'B' : 'A'}${token.slice(index + 1)}`;
      expect([index, accepts(candidate, key)]).toEqual([index, jsonwebtokenAccepts(candidate)]);
      changed++;
    }
    expect(changed).toBeGreaterThan(30);
  });

  it('throws on a signed payload that is not JSON (the caller refuses the token)', async () => {
    const token = await joseToken(key, 'not json');
    expect(() => verifier.verify(token, key)).toThrow();
  });
});

describe('JwsVerifier, algorithm confusion', () => {
  it('checks with the key’s algorithm: an HMAC over the token keyed with an RSA public key is refused (key confusion)', () => {
    const key = keyFor('RS256');
    const input = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(PAYLOAD)).toString('base64url')}`;
    const publicPem = key.verificationKey.export({ type: 'spki', format: 'pem' }) as string;
    const signature = createHmac('sha256', publicPem).update(input).digest();
    expect(accepts(`${input}.${signature.toString('base64url')}`, key)).toBe(false);
  });

  it('takes ES256 signatures as r‖s only: the DER encoding of a valid signature is refused', async () => {
    const key = keyFor('ES256');
    const token = await joseToken(key);
    const input = token.slice(0, token.lastIndexOf('.'));
    const der = cryptoSign('sha256', Buffer.from(input), { key: key.signingKey!, dsaEncoding: 'der' });
    expect(accepts(withSignature(token, der), key)).toBe(false);
  });

  it('refuses an HS512 signature under an HS256 key, and an HS256 one under an HS512 key', async () => {
    const hs256 = keyFor('HS256');
    const hs512 = keyFor('HS512');
    const token = await joseToken(hs256);
    const input = token.slice(0, token.lastIndexOf('.'));
    expect(accepts(withSignature(token, createHmac('sha512', hs256.verificationKey).update(input).digest()), hs256)).toBe(false);
    expect(accepts(withSignature(token, createHmac('sha256', hs512.verificationKey).update(input).digest()), hs512)).toBe(false);
  });
});
