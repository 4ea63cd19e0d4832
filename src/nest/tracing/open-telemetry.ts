import type * as OtelApi from '@opentelemetry/api';
import type { StoreObserver, StoreOperationName } from '../../core/observed-session-store.js';
import { currentTraceParent } from '../../core/trace-context.js';
import { storeErrorKind } from '../metrics/store-error-kind.js';

export type OpenTelemetryApi = typeof OtelApi;

/** An optional peer: named in a variable so that neither build resolves it at compile time. */
const OTEL_API_PACKAGE = '@opentelemetry/api';
const TRACER_NAME = 'nestjs-session-auth';

/** `@opentelemetry/api` when the app has it installed, else null (tracing is then off, at no cost). */
export async function loadOpenTelemetry(): Promise<OpenTelemetryApi | null> {
  try {
    const loaded = (await import(OTEL_API_PACKAGE)) as OpenTelemetryApi & { default?: OpenTelemetryApi };
    return typeof loaded.trace?.getTracer === 'function' ? loaded : (loaded.default ?? null);
  } catch {
    return null;
  }
}

/**
 * The trace id of the request being handled: the active OpenTelemetry span's when there is one,
 * else the one of the request's valid `traceparent` header, else null.
 */
export function traceIdSource(otel: OpenTelemetryApi | null): () => string | null {
  return () => {
    const active = otel?.trace.getActiveSpan()?.spanContext();
    if (active && otel!.isSpanContextValid(active)) return active.traceId;
    return currentTraceParent()?.traceId ?? null;
  };
}

/**
 * One client span per store operation, `session-store <operation>`, a child of the active span,
 * or of the request's `traceparent` when no span is active. A failure sets the span's status to
 * error with the failure's kind only, never a message (which could name keys).
 */
export class StoreSpans implements StoreObserver {
  private readonly tracer: OtelApi.Tracer;

  constructor(private readonly otel: OpenTelemetryApi) {
    this.tracer = otel.trace.getTracer(TRACER_NAME);
  }

  start(operation: StoreOperationName): (error: unknown) => void {
    const { SpanKind, SpanStatusCode } = this.otel;
    const span = this.tracer.startSpan(
      `session-store ${operation}`,
      { kind: SpanKind.CLIENT, attributes: { 'session_auth.store.operation': operation } },
      this.parentContext(),
    );
    return (error) => {
      if (error !== undefined) {
        const kind = storeErrorKind(error);
        span.setAttribute('error.type', kind);
        span.setStatus({ code: SpanStatusCode.ERROR, message: kind });
      }
      span.end();
    };
  }

  private parentContext(): OtelApi.Context {
    const { context, trace, TraceFlags } = this.otel;
    const active = context.active();
    if (trace.getSpan(active) !== undefined) return active;
    const parent = currentTraceParent();
    if (parent === undefined) return active;
    return trace.setSpanContext(active, {
      traceId: parent.traceId,
      spanId: parent.parentId,
      traceFlags: parent.flags & TraceFlags.SAMPLED,
      isRemote: true,
    });
  }
}
