import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import type { Session } from '../core/session.js';
import { SessionManager } from '../core/session-manager.js';
import { SessionAuthError } from '../core/errors.js';
import { requestFacts, responseSink } from './http-adapter.js';
import { httpPartsOf } from './transports/transport-context.js';

const PENDING = Symbol('session-auth:pending-session');
const RESOLVED = Symbol('session-auth:session');

type RequestWithSession = Record<PropertyKey, unknown> & Parameters<typeof requestFacts>[0];

/**
 * Opens each request's session at most once, whoever asks first (a guard or the interceptor),
 * so a request never costs more than one store read. A GraphQL request is one request, however
 * many resolvers of it are guarded.
 */
@Injectable()
export class RequestSessions {
  constructor(@Inject(SessionManager) private readonly manager: SessionManager) {}

  load(context: ExecutionContext): Promise<Session> {
    const http = httpPartsOf(context);
    if (http === null) {
      throw new SessionAuthError(`RequestSessions opens the sessions of HTTP requests and GraphQL operations, not of '${context.getType()}' contexts: on gateways use SocketSessions.`);
    }
    const request = http.getRequest<RequestWithSession>();
    const pending = request[PENDING] as Promise<Session> | undefined;
    if (pending) return pending;
    const opened = this.manager.open(requestFacts(request), responseSink(http.getResponse())).then(
      (session) => {
        request[RESOLVED] = session;
        return session;
      },
      (error: unknown) => {
        request[PENDING] = undefined;
        throw error;
      },
    );
    request[PENDING] = opened;
    return opened;
  }

  /** The session if a guard already opened it. */
  loaded(request: object): Promise<Session> | undefined {
    return (request as RequestWithSession)[PENDING] as Promise<Session> | undefined;
  }

  /** The opened session, synchronously, for parameter decorators. */
  static current(request: object): Session | undefined {
    return (request as RequestWithSession)[RESOLVED] as Session | undefined;
  }
}
