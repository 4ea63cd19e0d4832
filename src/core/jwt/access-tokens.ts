import { userIdOf, type AuthUser } from '../auth-user.js';
import { BoundedCache } from '../bounded-cache.js';
import { InvalidSessionError } from '../errors.js';
import { randomToken } from '../session-token.js';
import { isLowSEs256Signature, toLowSEs256Signature } from './ecdsa-signature.js';
import type { JwsEngine } from './jws.js';
import type { JwtKeyRing } from './jwt-keys.js';

/** RFC 9068 §2.1: access tokens say what they are, so no other JWT can stand in for one. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Checked before any decoding, so a huge header costs nothing (RFC 8725 §3.11 spirit). */
export const MAX_ACCESS_TOKEN_LENGTH = 4096;

export interface AccessTokenClaims {
  sub: string;
  /** The server-side session (token family) the token belongs to. */
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
  roles: string[];
}

export interface AccessTokenSettings {
  issuer: string;
  audience: string;
  accessTokenTtlMs: number;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** Tokens whose verified payload is kept: the clients active at once on one instance. */
const VERIFIED_TOKENS_KEPT = 10_000;

/**
 * Issues and verifies access tokens. Verification is explicit and strict (RFC 8725): length
 * cap, header checked against the configured key its `kid` names (that key's one algorithm,
 * so `none` and key confusion fail), `typ`, no `crit`, no `b64`; then the signature; only then
 * the claims, with `exp` required. `jku`, `x5u`, `jwk` and `x5c` are never read.
 */
export class AccessTokens {
  /**
   * Payloads of tokens whose signature and header this process has checked. A client sends the
   * same access token on every request until it is refreshed, and the signature check is most of
   * the cost of a stateless request: a token seen before skips it. Only tokens that passed are
   * kept (the keys are fixed at boot, so the answer never changes), and the claims (expiry above
   * all) are checked on every request all the same.
   */
  private readonly verifiedPayloads = new BoundedCache<string, Record<string, unknown>>(VERIFIED_TOKENS_KEPT);

  constructor(
    private readonly keys: JwtKeyRing,
    private readonly engine: JwsEngine,
    private readonly settings: AccessTokenSettings,
    private readonly clock: () => number = Date.now,
  ) {}

  issue(user: AuthUser, sid: string, notAfterMs: number): { accessToken: string; expiresIn: number } {
    const now = Math.floor(this.clock() / 1000);
    const exp = Math.min(now + Math.floor(this.settings.accessTokenTtlMs / 1000), Math.floor(notAfterMs / 1000));
    const claims: AccessTokenClaims = {
      sub: userIdOf(user),
      sid,
      jti: randomToken(16),
      iat: now,
      exp,
      iss: this.settings.issuer,
      aud: this.settings.audience,
      roles: user.roles ?? [],
    };
    const key = this.keys.signing;
    const signed = this.engine.sign({ ...claims }, { alg: key.alg, typ: ACCESS_TOKEN_TYPE, kid: key.kid }, key);
    const accessToken = key.alg === 'ES256' ? withLowSSignature(signed) : signed;
    return { accessToken, expiresIn: Math.max(0, exp - now) };
  }

  verify(token: string): AccessTokenClaims {
    const known = this.verifiedPayloads.get(token);
    if (known !== undefined) return this.checkClaims(known);
    const payload = this.verifySignature(token);
    this.verifiedPayloads.set(token, payload);
    return this.checkClaims(payload);
  }

  /** The token's payload once its form, header and signature passed every check; throws otherwise. */
  private verifySignature(token: string): Record<string, unknown> {
    if (token.length > MAX_ACCESS_TOKEN_LENGTH) throw new InvalidSessionError('malformed');
    const segments = token.split('.');
    if (segments.length !== 3 || !segments.every((segment) => SEGMENT.test(segment))) {
      throw new InvalidSessionError('malformed');
    }
    // One spelling per signature: the unused low bits of the last base64url character must be zero.
    const signature = Buffer.from(segments[2], 'base64url');
    if (signature.toString('base64url') !== segments[2]) {
      throw new InvalidSessionError('malformed');
    }
    const header = decodeJson(segments[0]);
    const key = this.keys.find(header.kid);
    if (
      key === undefined ||
      header.alg !== key.alg ||
      typeof header.typ !== 'string' ||
      !isAccessTokenType(header.typ) ||
      'crit' in header ||
      'b64' in header ||
      // ...and for ECDSA only the low-S one of the two signatures that verify (see ecdsa-signature.ts).
      (key.alg === 'ES256' && !isLowSEs256Signature(signature))
    ) {
      throw new InvalidSessionError('bad-signature');
    }
    let payload: unknown;
    try {
      payload = this.engine.verify(token, key);
    } catch {
      throw new InvalidSessionError('bad-signature');
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new InvalidSessionError('malformed');
    return payload as Record<string, unknown>;
  }

  private checkClaims(payload: Record<string, unknown>): AccessTokenClaims {
    const now = Math.floor(this.clock() / 1000);
    const { sub, sid, jti, iat, exp, nbf, iss, aud, roles } = payload;
    const audiences = Array.isArray(aud) ? aud : [aud];
    const wellFormed =
      typeof sub === 'string' &&
      typeof sid === 'string' &&
      typeof jti === 'string' &&
      typeof iat === 'number' &&
      typeof exp === 'number' &&
      (nbf === undefined || typeof nbf === 'number') &&
      iss === this.settings.issuer &&
      audiences.includes(this.settings.audience) &&
      (roles === undefined || (Array.isArray(roles) && roles.every((role) => typeof role === 'string')));
    if (!wellFormed) throw new InvalidSessionError('malformed');
    if (exp <= now || (typeof nbf === 'number' && nbf > now)) throw new InvalidSessionError('expired');
    return { sub, sid, jti, iat, exp, iss, aud: this.settings.audience, roles: (roles as string[] | undefined) ?? [] };
  }
}

/** Issued ES256 tokens carry the low-S signature, the only one verify accepts. */
function withLowSSignature(token: string): string {
  const dot = token.lastIndexOf('.');
  const signature = toLowSEs256Signature(Buffer.from(token.slice(dot + 1), 'base64url'));
  return `${token.slice(0, dot)}.${signature.toString('base64url')}`;
}

/** RFC 9068 §4: `at+jwt`, or its media-type spelling. */
function isAccessTokenType(typ: string): boolean {
  const normalized = typ.toLowerCase();
  return normalized === ACCESS_TOKEN_TYPE || normalized === `application/${ACCESS_TOKEN_TYPE}`;
}

function decodeJson(segment: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through: not JSON
  }
  throw new InvalidSessionError('malformed');
}
