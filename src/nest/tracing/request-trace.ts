import { parseTraceparent, runWithTraceParent, type TraceParent } from '../../core/trace-context.js';

interface WithHeaders {
  headers?: Record<string, string | string[] | undefined>;
}

/** The trace a request's valid W3C `traceparent` header names, else null. Express and Fastify requests alike. */
function traceParentOf(request: unknown): TraceParent | null {
  return parseTraceparent((request as WithHeaders | undefined)?.headers?.traceparent);
}

/**
 * Runs `fn` as part of the request's trace, so that the events, log lines and store spans it
 * causes carry it. Called where the module acts for a request (its guards, handlers that take
 * `@CurrentSession()`, `AuthService.refresh()`) rather than by a middleware on every route, so a
 * route the module takes no part in pays nothing. Without a valid header it just runs `fn`.
 */
export function inRequestTrace<T>(request: unknown, fn: () => T): T {
  const parent = traceParentOf(request);
  return parent === null ? fn() : runWithTraceParent(parent, fn);
}
