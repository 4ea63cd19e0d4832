import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthUser } from '../../core/auth-user.js';
import { toHttpError } from '../http-errors.js';
import { RequestSessions } from '../request-sessions.js';
import { IS_PUBLIC_KEY } from '../session.constants.js';

/**
 * Lets a request through only with a valid, logged-in session cookie, and puts the user on
 * `request.user`. Routes marked `@Public()` pass, so the guard can be registered globally.
 * Missing, forged, expired, revoked or duplicated cookies: 401. Store unreachable: 503.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    @Inject(Reflector) protected readonly reflector: Reflector,
    @Inject(RequestSessions) protected readonly sessions: RequestSessions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.isPublic(context)) return true;
    const http = context.switchToHttp();
    let user: AuthUser | null;
    try {
      user = (await this.sessions.load(context)).authenticatedUser;
    } catch (error) {
      throw toHttpError(error, http.getResponse());
    }
    if (user === null) throw new UnauthorizedException();
    http.getRequest<{ user?: AuthUser }>().user = user;
    return true;
  }

  protected isPublic(context: ExecutionContext): boolean {
    return this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]) === true;
  }
}
