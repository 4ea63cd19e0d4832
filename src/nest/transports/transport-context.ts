import type { ArgumentsHost, ExecutionContext } from '@nestjs/common';
import { SessionAuthError } from '../../core/errors.js';

/**
 * The HTTP request and response behind an execution context, for the transports that have one:
 * a controller (`'http'`) or a GraphQL resolver (`'graphql'`). Null for other transports
 * (WebSocket gateways, microservices), which have no response to write cookies to.
 *
 * The GraphQL context is the third resolver argument, read directly so that this module never
 * imports `@nestjs/graphql` (an optional peer). Apollo's Nest driver puts the Express request on
 * it as `req` (Express's `req.res` is its response); Mercurius puts the Fastify `reply` on it
 * (with `reply.request`), and the Nest driver adds `req` too.
 */
export interface HttpParts {
  getRequest<T = unknown>(): T;
  getResponse<T = unknown>(): T;
}

interface GraphqlContextLike {
  req?: { res?: unknown };
  request?: unknown;
  res?: unknown;
  reply?: { request?: unknown };
}

export function httpPartsOf(context: ArgumentsHost): HttpParts | null {
  const type = context.getType<string>();
  if (type === 'http') return context.switchToHttp();
  if (type !== 'graphql') return null;
  const graphql = (context.getArgByIndex(2) ?? {}) as GraphqlContextLike;
  const request = graphql.req ?? graphql.request ?? graphql.reply?.request;
  const response = graphql.res ?? graphql.reply ?? graphql.req?.res;
  if (request === undefined || response === undefined) {
    throw new SessionAuthError(
      'The GraphQL context has no HTTP request and response: keep the driver\'s `req` (Apollo) or `reply` (Mercurius) in the context, e.g. context: ({ req, res }) => ({ req, res }).',
    );
  }
  return { getRequest: <T>() => request as T, getResponse: <T>() => response as T };
}

/** True for a GraphQL resolver's context. */
export function isGraphqlContext(context: ExecutionContext): boolean {
  return context.getType<string>() === 'graphql';
}
