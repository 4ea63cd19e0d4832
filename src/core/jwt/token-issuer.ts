import type { AuthUser } from '../auth-user.js';
import { InvalidSessionError } from '../errors.js';
import type { ResolvedJwtOptions } from './jwt-options.js';
import { randomToken, sha256, type SessionRef } from '../session-token.js';
import type { RefreshState } from '../session-store.js';
import { AccessTokens } from './access-tokens.js';
import type { JwsEngine } from './jws.js';

/** What login and refresh answer in jwt and hybrid mode. */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Seconds until the access token expires. */
  expiresIn: number;
}

/** A refresh token minted for a session: the text for the client and the digest for the store. */
export interface MintedRefreshToken {
  token: string;
  state: RefreshState;
}

// tag.sessionDigest.secret: the session it belongs to, then 256 random bits.
const REFRESH_TOKEN = /^([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;
const SID = /^([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{43})$/;

/**
 * Mints access and refresh tokens for a session (its token family). The `sid` claim and the
 * refresh token name the session by its slot tag and digest, so revocation is checked by
 * session, never by a token's bytes (OWASP JWT cheat sheet); only the refresh token's digest
 * is stored.
 */
export class TokenIssuer {
  readonly accessTokens: AccessTokens;

  constructor(
    readonly options: ResolvedJwtOptions,
    engine: JwsEngine,
    private readonly clock: () => number = Date.now,
  ) {
    this.accessTokens = new AccessTokens(options.keys, engine, options, clock);
  }

  mintRefreshToken(ref: SessionRef, absoluteExpiresAt: number): MintedRefreshToken {
    const token = `${ref.tag}.${ref.digest}.${randomToken()}`;
    return {
      token,
      state: { digest: refreshDigest(token), expiresAt: Math.min(this.clock() + this.options.refreshTokenTtlMs, absoluteExpiresAt) },
    };
  }

  pair(user: AuthUser, ref: SessionRef, refresh: MintedRefreshToken, absoluteExpiresAt: number): TokenPair {
    const { accessToken, expiresIn } = this.accessTokens.issue(user, sidOf(ref), absoluteExpiresAt);
    return { accessToken, refreshToken: refresh.token, tokenType: 'Bearer', expiresIn };
  }
}

export function sidOf(ref: SessionRef): string {
  return `${ref.tag}.${ref.digest}`;
}

export function refOfSid(sid: string): SessionRef {
  const match = SID.exec(sid);
  if (!match) throw new InvalidSessionError('malformed');
  return { tag: match[1], digest: match[2] };
}

/** A presented refresh token: its session, its secret (kept in memory only) and the digest the store compares (refreshDigest). */
export interface PresentedRefreshToken {
  ref: SessionRef;
  secret: string;
  digest: string;
}

/** The session, the presented secret and the token's digest; malformed text (an access token, say) is rejected. */
export function parseRefreshToken(value: unknown): PresentedRefreshToken {
  const match = typeof value === 'string' ? REFRESH_TOKEN.exec(value) : null;
  if (!match) throw new InvalidSessionError('malformed');
  return { ref: { tag: match[1], digest: match[2] }, secret: match[3], digest: refreshDigest(value as string) };
}

/**
 * What the store keeps of a refresh token: the SHA-256 of the whole token, so every character
 * counts. Over the secret alone, the session part could change unseen wherever a store names a
 * session by a prefix of its digest (Redis keys carry 8 characters): SECURITY.md's one changed
 * character must answer 401.
 */
function refreshDigest(token: string): string {
  return sha256(token);
}
