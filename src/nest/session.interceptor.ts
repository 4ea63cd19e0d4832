import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { catchError, concatMap, throwError, type Observable, type OperatorFunction } from 'rxjs';
import type { Session } from '../core/session.js';
import { SessionManager } from '../core/session-manager.js';
import { preventCredentialCaching } from './http-adapter.js';
import { forTransport } from './graphql/graphql-errors.js';
import { RequestSessions } from './request-sessions.js';
import { inRequestTrace } from './tracing/request-trace.js';
import { httpPartsOf } from './transports/transport-context.js';

/**
 * Put on each handler that takes `@CurrentSession()` by that decorator, and only there: a route
 * that never sees a session pays nothing for the module. Opens the session (unless a guard
 * already did), keeps the answer out of caches, saves what the handler changed before the
 * response is sent, and turns the core's errors into HTTP answers (or GraphQL errors).
 */
@Injectable()
export class SessionInterceptor implements NestInterceptor {
  constructor(
    @Inject(RequestSessions) private readonly sessions: RequestSessions,
    @Inject(SessionManager) private readonly manager: SessionManager,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> | Promise<Observable<unknown>> {
    // HTTP requests and GraphQL operations alike; gateways have SocketSessions.
    const http = httpPartsOf(context);
    if (http === null) return next.handle();
    const request = http.getRequest<object>();
    const response = http.getResponse<unknown>();
    // The handler answers according to the cookie or token.
    preventCredentialCaching(request as Parameters<typeof preventCredentialCaching>[0], response);
    // Nest binds the handler to the async context in which `next.handle()` is called: inside the trace.
    return inRequestTrace(request, () =>
      this.sessions.load(context).then(
        (session) => next.handle().pipe(this.commitBeforeAnswer(session), mapErrors(context, response)),
        (error: unknown) => {
          throw forTransport(context, error, response, false);
        },
      ),
    );
  }

  /** Saves the session's changes before the handler's answer goes on; most requests change nothing. */
  private commitBeforeAnswer(session: Session): OperatorFunction<unknown, unknown> {
    return concatMap((result: unknown) => (session.changes.size === 0 ? [result] : this.manager.commit(session).then(() => result)));
  }
}

/** The core's errors as HTTP answers, or as GraphQL errors with a code inside a resolver. */
function mapErrors(context: ExecutionContext, response: unknown): OperatorFunction<unknown, unknown> {
  return catchError((error: unknown) => throwError(() => forTransport(context, error, response, false)));
}
