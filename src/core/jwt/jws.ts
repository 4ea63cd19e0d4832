import { sign as cryptoSign } from 'node:crypto';
import { JwsVerifier } from './jws-verifier.js';
import type { JwtKey } from './jwt-keys.js';

export interface JwsHeader {
  alg: string;
  typ: string;
  kid: string;
}

/**
 * Signs and checks signatures of compact JWS. The Nest layer provides one that signs with
 * @nestjs/jwt and verifies with JwsVerifier; callers check the header before and the claims after.
 */
export interface JwsEngine {
  sign(payload: Record<string, unknown>, header: JwsHeader, key: JwtKey): string;
  /** The payload when the signature is valid under `key` with `key.alg`; throws otherwise. Claims are the caller's job. */
  verify(token: string, key: JwtKey): unknown;
}

const verifier = new JwsVerifier();

/**
 * EdDSA (Ed25519) JWS with node:crypto: jsonwebtoken, under @nestjs/jwt, has no EdDSA.
 * The signing input and encoding are those of RFC 7515 §5.1 / RFC 8037.
 */
export const edDsaJws = {
  sign(payload: Record<string, unknown>, header: JwsHeader, key: JwtKey): string {
    const input = `${encodeSegment(header)}.${encodeSegment(payload)}`;
    const signature = cryptoSign(null, Buffer.from(input), key.signingKey!);
    return `${input}.${signature.toString('base64url')}`;
  },

  verify(token: string, key: JwtKey): unknown {
    return verifier.verify(token, key);
  },
};

function encodeSegment(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
