import { Inject, Injectable } from '@nestjs/common';
import { userIdOf, type AuthUser } from '../core/auth-user.js';
import { InvalidSessionError } from '../core/errors.js';
import type { Session } from '../core/session.js';
import type { HeldLock, SessionLockOptions } from '../core/session-lock.js';
import { SessionManager, type SessionInfo } from '../core/session-manager.js';
import type { TokenPair } from '../core/jwt/token-issuer.js';
import { requestFacts, responseSink } from './http-adapter.js';
import { inRequestTrace } from './tracing/request-trace.js';

/**
 * The one service an app talks to: log in and out, rotate a session after a privilege change,
 * and list or end a user's sessions. Session arguments come from `@CurrentSession()`.
 */
@Injectable()
export class AuthService {
  constructor(@Inject(SessionManager) private readonly manager: SessionManager) {}

  /**
   * Logs `user` in on a brand-new session ID (the pre-login one dies); data set before login is
   * kept. In jwt and hybrid mode, returns the access and refresh tokens; null in session mode.
   */
  login(session: Session, user: AuthUser): Promise<TokenPair | null> {
    return this.manager.login(session, user);
  }

  /**
   * Exchanges a refresh token (from the body, or the refresh cookie when
   * `jwt.refreshTokenTransport` is 'cookie') for a new pair. A token already used revokes its
   * whole family. Rejects with InvalidSessionError (401) otherwise.
   */
  refresh(refreshToken: unknown, http: { request: object; response: object }): Promise<TokenPair> {
    return inRequestTrace(http.request, () => this.manager.refresh(requestFacts(http.request as never), responseSink(http.response), refreshToken));
  }

  /**
   * Ends this session on the server, with its refresh token family, and clears its cookies.
   * In jwt mode a client whose access token expired may pass its current refresh token instead.
   */
  logout(session: Session, refreshToken?: unknown): Promise<void> {
    return this.manager.logout(session, refreshToken);
  }

  /** Ends every session of the session's user, this one included, and clears this cookie. */
  async logoutAll(session: Session): Promise<void> {
    const user = requireUser(session);
    await this.manager.revokeAllSessions(userIdOf(user));
    await this.manager.logout(session);
  }

  /**
   * New session ID for the same session, old ID dead (ASVS 7.2.4): call after a role change or
   * any privilege change. Pass the updated user to store its new roles too.
   */
  rotate(session: Session, user?: AuthUser): Promise<TokenPair | null> {
    return this.manager.rotate(session, user);
  }

  /**
   * After a password change (ASVS 7.4.3): ends the user's other sessions and rotates this one.
   * Returns how many other sessions were ended, and in jwt/hybrid mode the new tokens.
   */
  async revokeOtherSessions(session: Session): Promise<{ revoked: number; tokens: TokenPair | null }> {
    const user = requireUser(session);
    // A stateless bearer session has no record yet: without its handle, "others" would be everyone.
    await this.manager.load(session);
    const revoked = await this.manager.revokeAllSessions(userIdOf(user), { exceptHandle: session.id ?? undefined });
    return { revoked, tokens: await this.manager.rotate(session) };
  }

  /**
   * Runs `fn` under the session's lock `name` (a Redis `SET NX PX` with a random owner, released
   * by compare-and-delete), for a read-modify-write of session data that concurrent requests must
   * not interleave: inside `fn`, `session` holds data read after the lock was taken, and what `fn`
   * sets is saved before the lock is released. Waits up to `waitMs` (default 2000) with jittered
   * retries, then fails with SessionLockTimeoutError (409). The lock expires after `leaseMs`
   * (default 5000) unless `fn` calls `lease.renew()`; a handler that outlives it loses its writes
   * (SessionLockLostError, 409). See SessionManager.withLock.
   */
  withSessionLock<T>(
    session: Session,
    name: string,
    fn: (session: Session, lease: HeldLock) => T | Promise<T>,
    options?: SessionLockOptions,
  ): Promise<T> {
    return this.manager.withLock(session, name, fn, options);
  }

  /** The sessions of the session's user, newest activity first, the current one flagged. */
  async listSessions(session: Session): Promise<SessionInfo[]> {
    const user = requireUser(session);
    await this.manager.load(session);
    return this.manager.listSessions(userIdOf(user), session.id);
  }

  /** Any user's sessions, for admin tooling. */
  listUserSessions(userId: AuthUser['id']): Promise<SessionInfo[]> {
    return this.manager.listSessions(String(userId));
  }

  /** Ends one session of a user by its public id. False when the user has no such session. */
  revokeSession(userId: AuthUser['id'], sessionId: string): Promise<boolean> {
    return this.manager.revokeSession(String(userId), sessionId);
  }

  /** Ends every session of a user: account disabled, admin action (ASVS 7.4.2). Returns how many. */
  revokeAllSessions(userId: AuthUser['id']): Promise<number> {
    return this.manager.revokeAllSessions(String(userId));
  }

  /**
   * Checks the password of the session's user again (through `validateUser`, under the login's
   * username) and on success renews the session's password proof for `@RequireFreshLogin()`,
   * without a new login. False for a wrong password. Throttle it as a login: the built-in
   * `POST /auth/confirm-password` does.
   */
  confirmPassword(session: Session, password: string): Promise<boolean> {
    return this.manager.passwordProofs.confirm(session, password);
  }
}

function requireUser(session: Session): AuthUser {
  const user = session.authenticatedUser;
  if (user === null) throw new InvalidSessionError('not-found');
  return user;
}
