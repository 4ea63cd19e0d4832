import { Inject, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthUser } from '../../core/auth-user.js';
import type { AuthEventListener } from '../../core/auth-events.js';
import type { CsrfTokens } from '../../core/csrf-token.js';
import type { Session } from '../../core/session.js';
import type { ResolvedSessionOptions } from '../../core/session-options.js';
import { forTransport } from '../graphql/graphql-errors.js';
import { preventCredentialCaching } from '../http-adapter.js';
import { RequestSessions } from '../request-sessions.js';
import { AUTH_EVENTS, CSRF_TOKENS, IS_PUBLIC_KEY, RESOLVED_SESSION_OPTIONS } from '../session.constants.js';
import { inRequestTrace } from '../tracing/request-trace.js';
import { httpPartsOf, type HttpParts } from '../transports/transport-context.js';
import { SocketSessions } from '../websockets/socket-sessions.js';
import { enforceCsrf } from './csrf.guard.js';

/** Handler → controller → whether `@Public()` exempts it (an inherited handler can serve several controllers). */
const publicRoutes = new WeakMap<object, WeakMap<object, boolean>>();

/**
 * The shared shape of the auth guards: open the request's session, let it through if it is
 * logged in with an accepted credential, put the user on `request.user`. The same on GraphQL
 * resolvers (errors as GraphQL errors with a code) and WebSocket gateways (see SocketSessions). Routes marked
 * `@Public()` pass, so the guards can be registered globally. Missing, forged, expired,
 * revoked or duplicated credentials: 401. A cookie-authenticated unsafe request from another
 * site, or without the session's CSRF token when `csrf.token` is on: 403. Store unreachable:
 * 503. No answer of a guarded route is cached.
 */
export abstract class CredentialGuard implements CanActivate {
  constructor(
    @Inject(Reflector) protected readonly reflector: Reflector,
    @Inject(RequestSessions) protected readonly sessions: RequestSessions,
    @Inject(RESOLVED_SESSION_OPTIONS) protected readonly options: ResolvedSessionOptions,
    @Inject(CSRF_TOKENS) protected readonly tokens: CsrfTokens | null,
    @Inject(AUTH_EVENTS) protected readonly emit: AuthEventListener,
  ) {}

  @Inject(SocketSessions) private readonly sockets!: SocketSessions;

  /** Which credentials this guard takes; override to narrow or widen. */
  protected abstract accepts(session: Session): boolean;

  // Not async: a public route answers synchronously, a guarded one costs one promise fewer.
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.isPublic(context)) return true;
    const http = httpPartsOf(context);
    if (http === null) return this.sockets.authorizeMessage(context, (session) => this.accepts(session));
    return inRequestTrace(http.getRequest(), () => this.authorizeRequest(context, http));
  }

  private async authorizeRequest(context: ExecutionContext, http: HttpParts): Promise<boolean> {
    try {
      // Whatever the answer (200, 401, 403, 503), it depends on the credential.
      preventCredentialCaching(http.getRequest(), http.getResponse());
      const session = await this.sessions.load(context);
      const user = session.authenticatedUser;
      if (user === null || !this.accepts(session)) throw new UnauthorizedException();
      // Browsers attach cookies to cross-site requests; bearer tokens they never attach on their own.
      enforceCsrf({ options: this.options, tokens: this.tokens, emit: this.emit }, session, http.getRequest());
      http.getRequest<{ user?: AuthUser }>().user = user;
      return true;
    } catch (error) {
      throw forTransport(context, error, http.getResponse(), true);
    }
  }

  protected isPublic(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    const controller = context.getClass();
    // Metadata is fixed once the app has booted: read it once per handler and controller.
    let byController = publicRoutes.get(handler);
    if (byController === undefined) publicRoutes.set(handler, (byController = new WeakMap()));
    let isPublic = byController.get(controller);
    if (isPublic === undefined) {
      isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [handler, controller]) === true;
      byController.set(controller, isPublic);
    }
    return isPublic;
  }
}
