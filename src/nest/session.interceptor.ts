import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { catchError, concatMap, throwError, type Observable, type OperatorFunction } from 'rxjs';
import type { Session } from '../core/session.js';
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
 * of caches. Handlers that touch no session pay one cached metadata lookup and the error mapping.
 */
@Injectable()
export class SessionInterceptor implements NestInterceptor {
  /** Per handler, whether it takes `@CurrentSession()`: read from its metadata once, not per request. */
  private readonly needsSession = new WeakMap<object, boolean>();

  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(RequestSessions) private readonly sessions: RequestSessions,
    @Inject(SessionManager) private readonly manager: SessionManager,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> | Promise<Observable<unknown>> {
    // HTTP requests and GraphQL operations alike; gateways have SocketSessions.
    const http = httpPartsOf(context);
    if (http === null) return next.handle();
    const request = http.getRequest<object>();
    const response = http.getResponse<unknown>();
    const needsSession = this.handlerNeedsSession(context.getHandler());
    // Opened by a guard, or here for a handler that reads it; otherwise there is nothing to save.
    const pending = needsSession ? this.sessions.load(context) : this.sessions.loaded(request);
    if (pending === undefined) return next.handle().pipe(mapErrors(context, response));
    // A handler that reads the session answers according to the cookie or token.
    if (needsSession) preventCredentialCaching(request as Parameters<typeof preventCredentialCaching>[0], response);
    return pending.then(
      (session) => next.handle().pipe(this.commitBeforeAnswer(session), mapErrors(context, response)),
      (error: unknown) => {
        throw forTransport(context, error, response, false);
      },
    );
  }

  /** Saves the session's changes before the handler's answer goes on; most requests change nothing. */
  private commitBeforeAnswer(session: Session): OperatorFunction<unknown, unknown> {
    return concatMap((result: unknown) => (session.changes.size === 0 ? [result] : this.manager.commit(session).then(() => result)));
  }

  private handlerNeedsSession(handler: object): boolean {
    let needs = this.needsSession.get(handler);
    if (needs === undefined) {
      needs = this.reflector.get<boolean | undefined>(NEEDS_SESSION_KEY, handler as () => unknown) === true;
      this.needsSession.set(handler, needs);
    }
    return needs;
  }
}

/** The core's errors as HTTP answers, or as GraphQL errors with a code inside a resolver. */
function mapErrors(context: ExecutionContext, response: unknown): OperatorFunction<unknown, unknown> {
  return catchError((error: unknown) => throwError(() => forTransport(context, error, response, false)));
}
