import { applyDecorators, Inject, Injectable, SetMetadata, UnauthorizedException, UseGuards, type ExecutionContext } from '@nestjs/common';
import { parseDuration, type Duration } from '../../core/duration.js';
import type { Session } from '../../core/session.js';
import { SessionManager } from '../../core/session-manager.js';
import { forTransport } from '../graphql/graphql-errors.js';
import { FRESH_LOGIN_KEY } from '../session.constants.js';
import { httpPartsOf } from '../transports/transport-context.js';
import { SocketSessions, wsException } from '../websockets/socket-sessions.js';
import { AuthenticatedGuard } from './authenticated.guard.js';

/** The 401 body of a stale session: a client tells it from a plain 401 by `reauthenticate`. */
export const REAUTHENTICATION_REQUIRED = {
  statusCode: 401,
  error: 'Unauthorized',
  message: 'Re-authentication required: confirm your password (POST /auth/confirm-password) and retry.',
  reauthenticate: true,
} as const;

/**
 * AuthenticatedGuard, and the user must have proved their password within the route's window
 * (`@RequireFreshLogin()`): at login or through `confirmPassword`. Older sessions get 401 with
 * REAUTHENTICATION_REQUIRED. Works in every mode: the proof is on the session record.
 */
@Injectable()
export class FreshLoginGuard extends AuthenticatedGuard {
  @Inject(SessionManager) private readonly manager!: SessionManager;

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!(await super.canActivate(context))) return false;
    if (this.isPublic(context)) return true;
    const windowMs = this.reflector.getAllAndOverride<number | undefined>(FRESH_LOGIN_KEY, [context.getHandler(), context.getClass()]);
    if (windowMs === undefined) return true;
    const http = httpPartsOf(context);
    if (http === null) {
      // A gateway message: the session the auth check above opened for it.
      const socketSession = SocketSessions.sessionOf(context);
      if (socketSession && (await this.manager.passwordProofs.isFresh(socketSession, windowMs))) return true;
      throw await wsException(REAUTHENTICATION_REQUIRED.message);
    }
    try {
      const session: Session = await this.sessions.load(context);
      if (!(await this.manager.passwordProofs.isFresh(session, windowMs))) throw new UnauthorizedException(REAUTHENTICATION_REQUIRED);
      return true;
    } catch (error) {
      throw forTransport(context, error, http.getResponse(), true);
    }
  }
}

/**
 * The route needs a password proof younger than `window` (`'5m'`, milliseconds): authenticated
 * as by AuthenticatedGuard (CSRF included), and 401 with `reauthenticate: true` for an older
 * session. The window is checked when the decorator is applied: a bad one fails at start-up.
 */
export function RequireFreshLogin(window: Duration): MethodDecorator & ClassDecorator {
  const windowMs = parseDuration('RequireFreshLogin window', window);
  return applyDecorators(SetMetadata(FRESH_LOGIN_KEY, windowMs), UseGuards(FreshLoginGuard));
}
