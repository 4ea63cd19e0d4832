import { ForbiddenException, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { refusesCrossSite } from '../../core/cross-site.js';
import type { ResolvedSessionOptions } from '../../core/session-options.js';
import { requestFacts } from '../http-adapter.js';
import { RESOLVED_SESSION_OPTIONS } from '../session.constants.js';

/**
 * For routes that act on the cookies without needing a logged-in session, such as
 * `POST /auth/logout`: an unsafe request that carries cookies and comes from another site
 * (same-site included) is refused with 403, so a forged form post cannot log the visitor out.
 * Without cookies a request can only act through credentials it names itself (a bearer or
 * refresh token), which a forging page does not have.
 */
@Injectable()
export class SameSiteGuard implements CanActivate {
  constructor(@Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions) {}

  canActivate(context: ExecutionContext): boolean {
    const { cookieHeader, fetch } = requestFacts(context.switchToHttp().getRequest());
    if (cookieHeader && refusesCrossSite(this.options.csrf, fetch)) throw new ForbiddenException('Cross-site request refused.');
    return true;
  }
}
