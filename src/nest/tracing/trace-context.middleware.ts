import { Injectable, type NestMiddleware } from '@nestjs/common';
import { parseTraceparent, runWithTraceParent } from '../../core/trace-context.js';

/**
 * Makes a request's W3C `traceparent` the trace of everything the module does for it (events,
 * their log lines, store spans). Mounted by SessionModule on every route; a request without a
 * valid header costs one header lookup.
 */
@Injectable()
export class TraceContextMiddleware implements NestMiddleware {
  use(request: { headers: Record<string, string | string[] | undefined> }, _response: unknown, next: () => void): void {
    const parent = parseTraceparent(request.headers.traceparent);
    if (parent === null) next();
    else runWithTraceParent(parent, next);
  }
}
