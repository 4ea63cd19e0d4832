import { Inject, Injectable } from '@nestjs/common';
import type { AuthUser } from '../core/auth-user.js';
import { InvalidSessionError } from '../core/errors.js';
import type { Session } from '../core/session.js';
import { SessionManager, type SessionInfo } from '../core/session-manager.js';

/**
 * The one service an app talks to: log in and out, rotate a session after a privilege change,
 * and list or end a user's sessions. Session arguments come from `@CurrentSession()`.
 */
@Injectable()
export class AuthService {
  constructor(@Inject(SessionManager) private readonly manager: SessionManager) {}

  /** Logs `user` in on a brand-new session ID (the pre-login one dies); data set before login is kept. */
  login(session: Session, user: AuthUser): Promise<void> {
    return this.manager.login(session, user);
  }

  /** Ends this session on the server and clears its cookie. */
  logout(session: Session): Promise<void> {
    return this.manager.logout(session);
  }

  /** Ends every session of the session's user, this one included, and clears this cookie. */
  async logoutAll(session: Session): Promise<void> {
    const user = requireUser(session);
    await this.manager.revokeAllSessions(user.id);
    await this.manager.logout(session);
  }

  /**
   * New session ID for the same session, old ID dead (ASVS 7.2.4): call after a role change or
   * any privilege change. Pass the updated user to store its new roles too.
   */
  rotate(session: Session, user?: AuthUser): Promise<void> {
    return this.manager.rotate(session, user);
  }

  /**
   * After a password change (ASVS 7.4.3): ends the user's other sessions and rotates this one.
   * Returns how many other sessions were ended.
   */
  async revokeOtherSessions(session: Session): Promise<number> {
    const user = requireUser(session);
    const revoked = await this.manager.revokeAllSessions(user.id, { exceptHandle: session.id ?? undefined });
    await this.manager.rotate(session);
    return revoked;
  }

  /** The sessions of the session's user, newest activity first, the current one flagged. */
  listSessions(session: Session): Promise<SessionInfo[]> {
    return this.manager.listSessions(requireUser(session).id, session.id);
  }

  /** Any user's sessions, for admin tooling. */
  listUserSessions(userId: string): Promise<SessionInfo[]> {
    return this.manager.listSessions(userId);
  }

  /** Ends one session of a user by its public id. False when the user has no such session. */
  revokeSession(userId: string, sessionId: string): Promise<boolean> {
    return this.manager.revokeSession(userId, sessionId);
  }

  /** Ends every session of a user: account disabled, admin action (ASVS 7.4.2). Returns how many. */
  revokeAllSessions(userId: string): Promise<number> {
    return this.manager.revokeAllSessions(userId);
  }
}

function requireUser(session: Session): AuthUser {
  const user = session.authenticatedUser;
  if (user === null) throw new InvalidSessionError('not-found');
  return user;
}
