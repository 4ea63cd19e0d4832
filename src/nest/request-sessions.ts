import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import type { Session } from '../core/session.js';
import { SessionManager } from '../core/session-manager.js';
import { SessionAuthError } from '../core/errors.js';
import { requestFacts, responseSink } from './http-adapter.js';
import { httpPartsOf } from './transports/transport-context.js';

/** The one property the module adds to a request object: adding properties to Express's request is not free. */
const OPENING = Symbol('session-auth:session');

/** A request's session while it opens and once it is open. */
interface Opening {
  pending: Promise<Session> | undefined;
  session: Session | undefined;
}

type RequestWithSession = { [OPENING]?: Opening } & Parameters<typeof requestFacts>[0];

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
    const known = request[OPENING];
    if (known?.pending) return known.pending;
    const opening: Opening = known ?? (request[OPENING] = { pending: undefined, session: undefined });
    opening.pending = this.manager.open(requestFacts(request), responseSink(http.getResponse())).then(
      (session) => (opening.session = session),
      (error: unknown) => {
        // A store failure is not remembered: the next guard or interceptor of this request tries again.
        opening.pending = undefined;
        throw error;
      },
    );
    return opening.pending;
  }

  /** The opened session, synchronously, for parameter decorators. */
  static current(request: object): Session | undefined {
    return (request as RequestWithSession)[OPENING]?.session;
  }
}
