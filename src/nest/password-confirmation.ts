import { Inject, Injectable } from '@nestjs/common';
import type { AuthEventListener } from '../core/auth-events.js';
import { LoginThrottledError, type LoginThrottle } from '../core/login-throttle.js';
import type { Session } from '../core/session.js';
import { SessionManager } from '../core/session-manager.js';
import type { ResolvedSessionOptions } from '../core/session-options.js';
import { AuthService } from './auth.service.js';
import { failedLoginAccount } from './guards/local-auth.guard.js';
import { AUTH_EVENTS, LOGIN_THROTTLE, RESOLVED_SESSION_OPTIONS } from './session.constants.js';

/**
 * `POST /auth/confirm-password` as a login would be: throttled with the login's counters under
 * the login's username, before the password is checked, and a wrong or throttled attempt is a
 * `login.failed` event. Rejects with LoginThrottledError (429) or a store error (503).
 */
@Injectable()
export class PasswordConfirmation {
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(SessionManager) private readonly manager: SessionManager,
    @Inject(LOGIN_THROTTLE) private readonly throttle: LoginThrottle | null,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Inject(AUTH_EVENTS) private readonly emit: AuthEventListener,
  ) {}

  async confirm(session: Session, password: string): Promise<boolean> {
    await this.manager.load(session);
    // A session logged in without a username (not through LocalAuthGuard) is counted by its user id.
    const account = session.record?.passwordProof?.username ?? `id:${session.record?.userId ?? ''}`;
    const ip = session.request.ip;
    const failed = (reason: 'bad-credentials' | 'throttled') =>
      this.emit({ type: 'login.failed', reason, account: failedLoginAccount(this.options.secrets[0], account), ip: ip ?? null });
    try {
      await this.throttle?.attempt(account, ip);
    } catch (error) {
      if (error instanceof LoginThrottledError) failed('throttled');
      throw error;
    }
    const confirmed = await this.auth.confirmPassword(session, password);
    if (confirmed) await this.throttle?.succeeded(account, ip);
    else failed('bad-credentials');
    return confirmed;
  }
}
