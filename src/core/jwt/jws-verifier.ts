import { createHmac, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { JwtAlgorithm, JwtKey } from './jwt-keys.js';

/** Whether `signature` is the key's signature of the JWS signing input (RFC 7515 §5.2), under the key's one algorithm. */
type SignatureCheck = (signingInput: string, signature: Buffer, key: KeyObject) => boolean;

const hmac =
  (hash: string, bytes: number): SignatureCheck =>
  (input, signature, key) =>
    // The length of an HMAC is public; timingSafeEqual needs equal lengths.
    signature.length === bytes && timingSafeEqual(createHmac(hash, key).update(input).digest(), signature);

/** RFC 7518 §3.4: ES256 signatures are r‖s (IEEE P1363), not DER. Low-S is the caller's check. */
const CHECKS: Record<JwtAlgorithm, SignatureCheck> = {
  HS256: hmac('sha256', 32),
  HS384: hmac('sha384', 48),
  HS512: hmac('sha512', 64),
  RS256: (input, signature, key) => cryptoVerify('sha256', Buffer.from(input), key, signature),
  ES256: (input, signature, key) =>
    signature.length === 64 && cryptoVerify('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }, signature),
  EdDSA: (input, signature, key) => cryptoVerify(null, Buffer.from(input), key, signature),
};

/**
 * Checks the signature of a compact JWS with node:crypto over the KeyObject the key ring parsed
 * at boot: the cost of one HMAC or one signature verification, no general-purpose JWT library's
 * option handling on the request path. The algorithm is the key's, never the header's, so `none`
 * and key confusion cannot arise here; the header and the claims are the caller's to check
 * (AccessTokens). Signing stays with @nestjs/jwt (NestJwsEngine).
 */
export class JwsVerifier {
  /** The payload, parsed, when the signature is valid under `key` with `key.alg`; throws otherwise. */
  verify(token: string, key: JwtKey): unknown {
    const first = token.indexOf('.');
    const second = first < 0 ? -1 : token.indexOf('.', first + 1);
    if (second < 0 || token.indexOf('.', second + 1) >= 0) throw new Error('not a compact JWS (three segments)');
    const check = Object.hasOwn(CHECKS, key.alg) ? CHECKS[key.alg] : undefined;
    if (check === undefined) throw new Error(`no signature check for ${String(key.alg)}`);
    const signature = Buffer.from(token.slice(second + 1), 'base64url');
    let valid: boolean;
    try {
      valid = check(token.slice(0, second), signature, key.verificationKey);
    } catch {
      // node:crypto throws on some malformed signatures instead of answering false.
      valid = false;
    }
    if (!valid) throw new Error('invalid signature');
    return JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8')) as unknown;
  }
}
