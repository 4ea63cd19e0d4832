import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { edDsaJws, type JwsEngine, type JwsHeader } from '../core/jwt/jws.js';
import { JwsVerifier } from '../core/jwt/jws-verifier.js';
import type { JwtKey } from '../core/jwt/jwt-keys.js';

/**
 * Tokens are signed through @nestjs/jwt (jsonwebtoken) with the KeyObjects parsed at boot;
 * jsonwebtoken has no EdDSA, which is signed with node:crypto instead. Verification, on every
 * bearer request, is JwsVerifier: node:crypto over the same KeyObjects, pinned to the key's one
 * algorithm, without jsonwebtoken's per-call option handling. AccessTokens checks the header
 * before and the claims after (exp required, typ, crit, b64, iss, aud).
 */
@Injectable()
export class NestJwsEngine implements JwsEngine {
  private readonly verifier = new JwsVerifier();

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
    return this.verifier.verify(token, key);
  }
}
