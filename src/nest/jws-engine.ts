import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { edDsaJws, type JwsEngine, type JwsHeader } from '../core/jwt/jws.js';
import type { JwtKey } from '../core/jwt/jwt-keys.js';

/**
 * JWS through @nestjs/jwt (jsonwebtoken) with the KeyObjects parsed at boot, so nothing is
 * re-parsed per request. jsonwebtoken has no EdDSA, which goes through node:crypto instead.
 * Verification is pinned to the key's one algorithm; AccessTokens adds the checks jsonwebtoken
 * leaves out (exp required, typ, crit, b64).
 */
@Injectable()
export class NestJwsEngine implements JwsEngine {
  constructor(@Inject(JwtService) private readonly jwt: JwtService) {}

  sign(payload: Record<string, unknown>, header: JwsHeader, key: JwtKey): string {
    if (key.alg === 'EdDSA') return edDsaJws.sign(payload, header, key);
    const secretOrKey = key.alg.startsWith('HS') ? { secret: key.signingKey! } : { privateKey: key.signingKey! };
    return this.jwt.sign(payload, {
      ...secretOrKey,
      algorithm: key.alg as 'HS256',
      // No noTimestamp: jsonwebtoken would then drop the payload's own iat.
      header: header as unknown as { alg: 'HS256' },
    } as never);
  }

  verify(token: string, key: JwtKey): unknown {
    if (key.alg === 'EdDSA') return edDsaJws.verify(token, key);
    const secretOrKey = key.alg.startsWith('HS') ? { secret: key.verificationKey } : { publicKey: key.verificationKey };
    return this.jwt.verify<Record<string, unknown>>(token, {
      ...secretOrKey,
      algorithms: [key.alg as 'HS256'],
      // AccessTokens checks exp and nbf itself, against its own clock, with exp required.
      ignoreExpiration: true,
      ignoreNotBefore: true,
    } as never);
  }
}
