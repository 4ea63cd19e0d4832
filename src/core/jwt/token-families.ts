import type { AuthEventListener } from '../auth-events.js';
import { refusesCrossSite } from '../cross-site.js';
import { CrossSiteRequestError, InvalidSessionError } from '../errors.js';
import { Session } from '../session.js';
import type { RequestFacts, ResponseSink, SessionCookie } from '../session-cookie.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import type { SessionRef } from '../session-token.js';
import type { RefreshGrace, SessionRecord, SessionStore, TouchPolicy } from '../session-store.js';
import type { JwsEngine } from './jws.js';
import { RefreshCookie } from './refresh-cookie.js';
import { checkRevocation, REVOCATION_UNCHECKED } from '../store-unavailable-policy.js';
import { openSuccessor, sealSuccessor } from './refresh-successor.js';
import {
  parseRefreshToken,
  refOfSid,
  sidOf,
  TokenIssuer,
  type MintedRefreshToken,
  type PresentedRefreshToken,
  type TokenPair,
} from './token-issuer.js';

// RFC 6750 §2.1 / RFC 9110 §11.1: the scheme name is case-insensitive.
const BEARER = /^Bearer ([A-Za-z0-9._-]+)$/i;

/**
 * The jwt/hybrid half of the session lifecycle: a session is also the family of its refresh
 * tokens. Opens sessions from bearer access tokens, rotates refresh tokens, and hands out token
 * pairs. Sessions themselves (create, destroy, rename) stay with SessionManager.
 */
export class TokenFamilies {
  readonly issuer: TokenIssuer;
  private readonly refreshCookie: RefreshCookie | null;

  constructor(
    private readonly options: ResolvedSessionOptions & { jwt: NonNullable<ResolvedSessionOptions['jwt']> },
    private readonly store: SessionStore,
    sessionCookie: SessionCookie,
    engine: JwsEngine,
    private readonly clock: () => number,
    private readonly emit: AuthEventListener,
  ) {
    const { jwt } = options;
    this.issuer = new TokenIssuer(jwt, engine, clock);
    this.refreshCookie =
      jwt.refreshTokenTransport === 'cookie'
        ? new RefreshCookie(sessionCookie, jwt.refreshCookiePath, Math.floor(jwt.refreshTokenTtlMs / 1000))
        : null;
  }

  /** A family stays alive as long as its refresh token may still be used, or the idle timeout if longer. */
  get idleMs(): number {
    return Math.max(this.options.idleTimeoutMs, this.options.jwt.refreshTokenTtlMs);
  }

  /**
   * Fills `session` from an Authorization header: the access token is verified strictly, then,
   * with per-request revocation, its session (`sid`) must still exist: one store round trip.
   */
  async openBearer(session: Session, authorization: string): Promise<void> {
    const match = BEARER.exec(authorization);
    let claims;
    let ref: SessionRef;
    try {
      if (!match) throw new InvalidSessionError('malformed');
      claims = this.issuer.accessTokens.verify(match[1]);
      ref = refOfSid(claims.sid);
    } catch (error) {
      if (!(error instanceof InvalidSessionError)) throw error;
      session.rejection = error.reason;
      return;
    }
    const adoptStateless = (): void => session.adopt(ref, null, { via: 'bearer', user: { id: claims.sub, roles: claims.roles } });
    // Stateless: nothing to wait for, so no await (each one is a turn of the microtask queue).
    if (this.options.jwt.revocation === 'stateless') {
      adoptStateless();
      return;
    }
    // storeUnavailable 'accept-stateless' (store-unavailable-policy.ts): an unanswered check accepts the token as stateless.
    const record = await checkRevocation(this.options.storeUnavailable, () => this.store.read(ref, this.bearerRead(this.clock())));
    if (record === REVOCATION_UNCHECKED) {
      adoptStateless();
      return;
    }
    if (record === null || record.userId !== claims.sub) session.rejection = 'not-found';
    else session.adopt(ref, record, { via: 'bearer' });
  }

  /**
   * Exchanges a refresh token for a new pair (RFC 9700 §4.14): the presented token is consumed
   * atomically; presenting a consumed one destroys the whole family and is refused. With a reuse
   * grace window, the token consumed last is answered with its successor again for a while.
   */
  async refresh(request: RequestFacts, response: ResponseSink, bodyToken: unknown): Promise<TokenPair> {
    // A browser attaches the refresh cookie to requests other pages make too (SameSite=Strict
    // still lets a sibling subdomain's through): a forged refresh rotates the family, two at once
    // end it as a reuse. So, as for logout, only the app's own pages may refresh by cookie.
    if (this.refreshCookie && refusesCrossSite(this.options.csrf, request.fetch)) {
      this.emit({ type: 'csrf.rejected', reason: 'cross-site', userId: null, sessionId: null, ip: request.ip ?? null });
      throw new CrossSiteRequestError();
    }
    const presented = parseRefreshToken(this.presentedToken(request, bodyToken));
    const { ref } = presented;
    const now = this.clock();
    // The stored expiry of `next` may pass the family's deadline; the store refuses it after the deadline anyway.
    const next = this.mint(ref, now + this.options.jwt.refreshTokenTtlMs);
    const result = await this.store.rotateRefreshToken(ref, presented.digest, next.state, this.touch(now), this.grace(presented, next));
    if (result.outcome === 'reused') {
      this.emit({ type: 'refresh.reused', ip: request.ip ?? null });
      throw new InvalidSessionError('refresh-reused');
    }
    if (result.outcome === 'invalid') throw new InvalidSessionError('not-found');
    const successor = result.outcome === 'replayed' ? this.openReplayed(presented, result.sealedNext, result.record) : next;
    const session = new Session(request, response);
    session.adopt(ref, result.record, { via: 'bearer' });
    return this.issue(session, successor);
  }

  /**
   * Ends the family of the refresh token the request presents (from the refresh cookie with that
   * transport, else `bodyToken`) when it is the family's current one or one it consumed (then
   * someone else refreshed with it: `refresh.reused`, and their tokens die too); anything else is ignored.
   * The store compares and destroys in one step and never reads (so never slides) the session:
   * a forged token naming a real `sid` must not keep that session alive. The ended session, or null.
   */
  async revoke(request: RequestFacts, bodyToken: unknown): Promise<SessionRecord | null> {
    let parsed;
    try {
      parsed = parseRefreshToken(this.presentedToken(request, bodyToken));
    } catch (error) {
      if (error instanceof InvalidSessionError) return null;
      throw error;
    }
    const ended = await this.store.destroyByRefreshToken(parsed.ref, parsed.digest);
    if (ended && ended.refresh?.digest !== parsed.digest) this.emit({ type: 'refresh.reused', ip: request.ip ?? null });
    return ended;
  }

  mint(ref: SessionRef, absoluteExpiresAt: number): MintedRefreshToken {
    return this.issuer.mintRefreshToken(ref, absoluteExpiresAt);
  }

  /** The pair for a session and its freshly minted refresh token; with the cookie transport the token goes in a cookie instead. */
  issue(session: Session, refresh: MintedRefreshToken): TokenPair {
    const user = session.authenticatedUser;
    if (user === null || session.ref === null || session.record === null) throw new InvalidSessionError('not-found');
    const pair = this.issuer.pair(user, session.ref, refresh, session.record.absoluteExpiresAt);
    session.response.preventCaching();
    if (!this.refreshCookie) return pair;
    session.response.setCookie(this.refreshCookie.serialize(session.request, pair.refreshToken));
    return { ...pair, refreshToken: '' };
  }

  clearCookie(session: Session): void {
    if (this.refreshCookie) session.response.setCookie(this.refreshCookie.serializeCleared(session.request));
  }

  /** With a grace window, the rotation keeps `next` sealed to the presented token for a concurrent caller with the same token. */
  private grace(presented: PresentedRefreshToken, next: MintedRefreshToken): RefreshGrace | undefined {
    const windowMs = this.options.jwt.refreshReuseGraceMs;
    if (windowMs === 0) return undefined;
    return { windowMs, sealedNext: sealSuccessor(presented.secret, sidOf(presented.ref), next.token) };
  }

  /** The successor a concurrent rotation stored; it opens only with the presented token, and must still be the current one. */
  private openReplayed(presented: PresentedRefreshToken, sealedNext: string, record: SessionRecord): MintedRefreshToken {
    const token = openSuccessor(presented.secret, sidOf(presented.ref), sealedNext);
    const current = record.refresh;
    if (token === null || !current || parseRefreshToken(token).digest !== current.digest) throw new InvalidSessionError('not-found');
    return { token, state: current };
  }

  /** With the cookie transport the cookie is the only place a refresh token is taken from. */
  private presentedToken(request: RequestFacts, bodyToken: unknown): unknown {
    return this.refreshCookie ? this.refreshCookie.read(request) : bodyToken;
  }

  /**
   * A bearer request lives by its family: the refresh token must be unexpired. It slides only as
   * far as the cookie's idle timeout (it counts as activity for a live hybrid cookie); the key
   * already lives as long as the refresh token, from its creation or last rotation.
   */
  private bearerRead(now: number): TouchPolicy {
    return { ...this.touch(now), idleTimeoutMs: this.options.idleTimeoutMs, idleRule: 'refresh-token' };
  }

  /** In hybrid mode token use may keep the cookie alive, but never revive it (TouchPolicy.cookieIdleTimeoutMs). */
  private touch(now: number): TouchPolicy {
    const cookieIdleTimeoutMs = this.options.mode === 'hybrid' ? this.options.idleTimeoutMs : undefined;
    return { now, idleTimeoutMs: this.idleMs, touchIntervalMs: this.options.touchIntervalMs, cookieIdleTimeoutMs };
  }
}
