import { Catch, HttpException, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { throwError } from 'rxjs';
import { SessionAuthError } from '../core/errors.js';
import { GraphqlAuthError } from './graphql/graphql-errors.js';
import { toHttpError } from './http-errors.js';
import { httpPartsOf } from './transports/transport-context.js';

/**
 * Registered globally by SessionModule: a core error that escapes a handler the module's guards
 * and `@CurrentSession()` do not wrap (an unguarded route calling `AuthService.refresh()` or
 * `revokeAllSessions()`, say) becomes the same answer it gets everywhere else: 503 with
 * Retry-After, 401, 409, 413, ... A filter instead of a global interceptor, so that a route the
 * module takes no part in pays nothing for it. An app's own catch-all filter runs before this
 * one (Nest asks the app's filters first): such a filter should render the status of errors
 * that carry one, or leave SessionAuthError to this filter by catching only its own types.
 */
@Catch(SessionAuthError)
export class SessionErrorFilter extends BaseExceptionFilter {
  override catch(error: SessionAuthError, host: ArgumentsHost): unknown {
    const type = host.getType<string>();
    if (type === 'http' || type === 'graphql') {
      const http = httpPartsOf(host);
      const translated = toHttpError(error, http?.getResponse());
      // A GraphQL filter hands its error back to the driver, which puts it in `errors`.
      if (type === 'graphql') return translated instanceof HttpException ? GraphqlAuthError.from(translated) : translated;
      return super.catch(translated, host);
    }
    // Gateways and microservices have their own answers for errors (SocketSessions closes a socket
    // whose session ends); anything else reaches them as Nest's own handler would pass it.
    return passThroughUnknownTransport(error, host);
  }
}

/** What Nest's own WebSocket and RPC filters answer for an error that is not theirs. */
function passThroughUnknownTransport(error: SessionAuthError, host: ArgumentsHost): unknown {
  if (host.getType<string>() === 'ws') {
    const client = host.switchToWs().getClient<{ emit?: (event: string, payload: unknown) => void }>();
    client.emit?.('exception', { status: 'error', message: 'Internal server error' });
    return undefined;
  }
  // Microservices send the observable's error back to the caller.
  return throwError(() => ({ status: 'error', message: 'Internal server error' }));
}
