import { AsyncLocalStorage } from 'node:async_hooks';

/** A W3C Trace Context parent (https://www.w3.org/TR/trace-context/#traceparent-header), as received. */
export interface TraceParent {
  traceId: string;
  parentId: string;
  /** The trace-flags byte; bit 0 is "sampled". */
  flags: number;
}

// version-traceid-parentid-flags, lowercase hex only (§3.2.2); a later version may append fields after a dash.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;
/** Longer than any traceparent of the versions defined so far: refused before the pattern runs. */
const MAX_TRACEPARENT_LENGTH = 256;

/**
 * Parses a `traceparent` header strictly: version 00 is exactly its four fields; version ff, an
 * all-zero trace or parent id, uppercase hex, or several headers joined into one are refused
 * (null), as the specification asks, so a malformed header never names a trace.
 */
export function parseTraceparent(header: unknown): TraceParent | null {
  if (typeof header !== 'string' || header.length > MAX_TRACEPARENT_LENGTH) return null;
  const match = TRACEPARENT.exec(header);
  if (!match) return null;
  const [, version, traceId, parentId, flags, rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(parentId)) return null;
  return { traceId, parentId, flags: parseInt(flags, 16) };
}

const current = new AsyncLocalStorage<TraceParent>();

/** Runs `fn` with `parent` as the request's trace parent (see currentTraceParent). */
export function runWithTraceParent<T>(parent: TraceParent, fn: () => T): T {
  return current.run(parent, fn);
}

/** The trace parent of the request being handled, when it came with a valid `traceparent`. */
export function currentTraceParent(): TraceParent | undefined {
  return current.getStore();
}
