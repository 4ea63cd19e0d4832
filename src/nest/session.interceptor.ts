import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { catchError, concatMap, from, switchMap, throwError, type Observable } from 'rxjs';
import { SessionManager } from '../core/session-manager.js';
import { preventCredentialCaching } from './http-adapter.js';
import { forTransport } from './graphql/graphql-errors.js';
import { RequestSessions } from './request-sessions.js';
import { NEEDS_SESSION_KEY } from './session.constants.js';
import { httpPartsOf } from './transports/transport-context.js';

/**
 * Registered globally by SessionModule. Opens the session for handlers that take
 * `@CurrentSession()`, saves what the handler changed before the response is sent, and turns
 * the core's errors into HTTP answers. The answers of handlers that read the session are kept out
 * of caches. Handlers that touch no session pay nothing.
 */
@Injectable()
export class SessionInterceptor implements NestInterceptor {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(RequestSessions) private readonly sessions: RequestSessions,
    @Inject(SessionManager) private readonly manager: SessionManager,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    // HTTP requests and GraphQL operations alike; gateways have SocketSessions.
    const http = httpPartsOf(context);
    if (http === null) return next.handle();
    const response = http.getResponse<unknown>();
    const needsSession = this.reflector.get<boolean | undefined>(NEEDS_SESSION_KEY, context.getHandler());
    // A handler that reads the session answers according to the cookie or token.
    if (needsSession) preventCredentialCaching(http.getRequest(), response);
    const pending = needsSession ? this.sessions.load(context) : this.sessions.loaded(http.getRequest());
    const handled = pending
      ? from(pending).pipe(
          switchMap((session) =>
            next.handle().pipe(
              concatMap(async (result: unknown) => {
                await this.manager.commit(session);
                return result;
              }),
            ),
          ),
        )
      : next.handle();
    return handled.pipe(catchError((error: unknown) => throwError(() => forTransport(context, error, response, false))));
  }
}
