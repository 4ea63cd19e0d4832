import { applyDecorators, ForbiddenException, Inject, Injectable, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { userIdOf } from '../../core/auth-user.js';
import type { AuthEventListener } from '../../core/auth-events.js';
import { isSafeMethod, refusesCrossSite } from '../../core/cross-site.js';
import { csrfRefusal, type CsrfRefusal, type CsrfTokens } from '../../core/csrf-token.js';
import type { Session } from '../../core/session.js';
import type { ResolvedSessionOptions } from '../../core/session-options.js';
import { requestFacts } from '../http-adapter.js';
import { forTransport } from '../graphql/graphql-errors.js';
import { RequestSessions } from '../request-sessions.js';
import { AUTH_EVENTS, CSRF_TOKENS, RESOLVED_SESSION_OPTIONS } from '../session.constants.js';
import { inRequestTrace } from '../tracing/request-trace.js';
import { httpPartsOf } from '../transports/transport-context.js';

const MESSAGES: Record<CsrfRefusal, string> = {
  'cross-site': 'Cross-site request refused.',
  'token-missing': 'CSRF token missing: send the token from GET /auth/csrf (or the login answer) in the CSRF header.',
  'token-mismatch': 'CSRF token invalid for this session: fetch the current one from GET /auth/csrf.',
};

type HeaderBag = { headers: Record<string, string | string[] | undefined> };

/** The parts of the module a CSRF check needs. */
export interface CsrfContext {
  options: ResolvedSessionOptions;
  tokens: CsrfTokens | null;
  emit: AuthEventListener;
}

/** Throws 403, after a `csrf.rejected` event, when the open session's request fails the CSRF check. */
export function enforceCsrf({ options, tokens, emit }: CsrfContext, session: Session, request: HeaderBag): void {
  const header = options.csrf?.token?.headerName;
  // A repeated header is refused as missing rather than "take the first".
  const value = header === undefined ? undefined : request.headers[header];
  const reason = csrfRefusal(options.csrf, tokens, session, typeof value === 'string' ? value : undefined);
  if (reason === null) return;
  const user = session.authenticatedUser;
  emit({ type: 'csrf.rejected', reason, userId: user ? userIdOf(user) : null, sessionId: session.id, ip: session.request.ip ?? null });
  throw new ForbiddenException(MESSAGES[reason]);
}

/**
 * For state-changing routes without an auth guard (`POST /auth/logout`, an app's own `@Public()`
 * form handlers): an unsafe request that carries cookies and comes from another site (same-site
 * included) is refused with 403, and with `csrf.token` on, one whose live session cookie comes
 * without the session's token too. Without cookies a request can only act through credentials it
 * names itself (a bearer or refresh token), which a forging page does not have.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  constructor(
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Inject(CSRF_TOKENS) private readonly tokens: CsrfTokens | null,
    @Inject(AUTH_EVENTS) private readonly emit: AuthEventListener,
    @Inject(RequestSessions) private readonly sessions: RequestSessions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = httpPartsOf(context);
    // Gateways check the handshake's origin at connection (SocketSessions).
    if (http === null) return true;
    try {
      return await inRequestTrace(http.getRequest(), () => this.check(context, http.getRequest<HeaderBag>()));
    } catch (error) {
      throw forTransport(context, error, http.getResponse(), true);
    }
  }

  private async check(context: ExecutionContext, request: HeaderBag): Promise<boolean> {
    const { cookieHeader, fetch, ip } = requestFacts(request);
    if (!cookieHeader) return true;
    // Checked before the session is opened: a forged request costs no store read.
    if (refusesCrossSite(this.options.csrf, fetch)) {
      this.emit({ type: 'csrf.rejected', reason: 'cross-site', userId: null, sessionId: null, ip: ip ?? null });
      throw new ForbiddenException(MESSAGES['cross-site']);
    }
    if (this.tokens === null || !this.options.csrf?.token || isSafeMethod(fetch?.method ?? 'GET')) return true;
    const session: Session = await this.sessions.load(context);
    // A cookie that opens no session (expired, forged) has no token: it can only be cleared.
    enforceCsrf({ options: this.options, tokens: this.tokens, emit: this.emit }, session, request);
    return true;
  }
}

/** Protects a route that has no auth guard with the same CSRF check as the auth guards (`CsrfGuard`). */
export const CsrfProtected = () => applyDecorators(UseGuards(CsrfGuard));
