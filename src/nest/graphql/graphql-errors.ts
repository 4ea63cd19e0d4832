import { HttpException, HttpStatus, type ExecutionContext } from '@nestjs/common';
import { toHttpError } from '../http-errors.js';
import { isGraphqlContext } from '../transports/transport-context.js';

/** The `extensions.code` a GraphQL client reads for each HTTP answer of the module. */
const CODES: Partial<Record<number, string>> = {
  [HttpStatus.BAD_REQUEST]: 'BAD_USER_INPUT',
  [HttpStatus.UNAUTHORIZED]: 'UNAUTHENTICATED',
  [HttpStatus.FORBIDDEN]: 'FORBIDDEN',
  [HttpStatus.CONFLICT]: 'CONFLICT',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'BAD_USER_INPUT',
  [HttpStatus.TOO_MANY_REQUESTS]: 'TOO_MANY_REQUESTS',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'SERVICE_UNAVAILABLE',
};

/**
 * An auth failure inside a GraphQL operation. Not an HttpException on purpose: Apollo's Nest
 * driver turns those it does not know (503, 429) into INTERNAL_SERVER_ERROR and Mercurius gives
 * them no code at all, while both copy an error's own `extensions` into the GraphQL error
 * (graphql-js does so for the original error of a resolver). `status` is the HTTP equivalent.
 */
export class GraphqlAuthError extends Error {
  readonly extensions: { code: string; status: number };

  constructor(message: string, code: string, status: number) {
    super(message);
    this.name = this.constructor.name;
    this.extensions = { code, status };
  }

  static from(exception: HttpException): GraphqlAuthError {
    const status = exception.getStatus();
    return new GraphqlAuthError(exception.message, CODES[status] ?? 'INTERNAL_SERVER_ERROR', status);
  }
}

/**
 * What a guard's or the interceptor's error becomes for the transport: unchanged over HTTP; in a
 * resolver, the module's own HTTP answers (and the core errors they stand for) become
 * GraphqlAuthError. `ours` says whether an HttpException came from the module (a guard) or may be
 * the app's own, which its GraphQL driver formats as it always has.
 */
export function forTransport(context: ExecutionContext, error: unknown, response: unknown, ours: boolean): unknown {
  const translated = toHttpError(error, response);
  if (!isGraphqlContext(context)) return translated;
  const fromModule = translated !== error || ours;
  return fromModule && translated instanceof HttpException ? GraphqlAuthError.from(translated) : translated;
}
