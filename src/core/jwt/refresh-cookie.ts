import { serialize } from 'cookie';
import { InvalidSessionError } from '../errors.js';
import { findCookie, type RequestFacts, type SessionCookie } from '../session-cookie.js';

export const REFRESH_COOKIE_BASE_NAME = 'rt';

/**
 * The refresh token as an HttpOnly cookie (option `jwt.refreshTokenTransport: 'cookie'`), sent
 * only under the auth routes' prefix (`jwt.refreshCookiePath`, `/auth`). That path covers the
 * refresh *and* the logout route on purpose: scoped to `/auth/refresh` alone, the browser never
 * sent it to `/auth/logout`, so a logout after the access token expired could not end the family
 * (the alternative, a revoke route under the refresh path, leaves the family alive for every
 * client that only calls logout). Only refresh and logout read it. It cannot be a `__Host-`
 * cookie, which must have `Path=/`, so a secure one is `__Secure-rt` (RFC 6265bis §4.1.3).
 * SameSite=Strict: no cross-site request ever carries it.
 */
export class RefreshCookie {
  constructor(
    private readonly sessionCookie: SessionCookie,
    private readonly path: string,
    private readonly maxAgeSeconds: number,
  ) {}

  nameFor(request: RequestFacts): string {
    return this.sessionCookie.isSecure(request) ? `__Secure-${REFRESH_COOKIE_BASE_NAME}` : REFRESH_COOKIE_BASE_NAME;
  }

  /** The refresh token from the cookie; two of them (one planted) are refused, as for the session cookie. */
  read(request: RequestFacts): string | undefined {
    const lookup = findCookie(request.cookieHeader, this.nameFor(request));
    if (lookup.kind === 'duplicate') throw new InvalidSessionError('duplicate-cookie');
    return lookup.kind === 'present' ? lookup.value : undefined;
  }

  serialize(request: RequestFacts, token: string): string {
    return serialize(this.nameFor(request), token, { ...this.attributes(request), maxAge: this.maxAgeSeconds });
  }

  serializeCleared(request: RequestFacts): string {
    return serialize(this.nameFor(request), '', { ...this.attributes(request), maxAge: 0, expires: new Date(0) });
  }

  private attributes(request: RequestFacts) {
    return { httpOnly: true, secure: this.sessionCookie.isSecure(request), sameSite: 'strict', path: this.path } as const;
  }
}
