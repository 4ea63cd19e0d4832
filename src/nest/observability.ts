import type { OnModuleDestroy } from '@nestjs/common';
import type { AuthEvent } from '../core/auth-events.js';
import { combineObservers, ObservedSessionStore, type StoreObserver } from '../core/observed-session-store.js';
import type { ResolvedSessionOptions } from '../core/session-options.js';
import type { SessionStore } from '../core/session-store.js';
import { loadPromClient, SessionMetrics } from './metrics/session-metrics.js';
import { loadOpenTelemetry, StoreSpans, traceIdSource } from './tracing/open-telemetry.js';

/**
 * The module's operational hooks, built once at boot: Prometheus metrics when `metrics` is set
 * (prom-client must then be installed), store spans and trace ids when `@opentelemetry/api` is
 * installed, the request's `traceparent` otherwise. Without any of them it changes nothing.
 */
export class SessionObservability implements OnModuleDestroy {
  private constructor(
    readonly metrics: SessionMetrics | null,
    private readonly observer: StoreObserver | null,
    readonly traceId: () => string | null,
  ) {}

  static async create(options: ResolvedSessionOptions): Promise<SessionObservability> {
    const otel = await loadOpenTelemetry();
    const metrics = options.metrics ? new SessionMetrics(await loadPromClient(), options.metrics, options.idleTimeoutMs) : null;
    const observers: StoreObserver[] = [...(otel ? [new StoreSpans(otel)] : []), ...(metrics ? [metrics] : [])];
    return new SessionObservability(metrics, observers.length > 0 ? combineObservers(observers) : null, traceIdSource(otel));
  }

  /**
   * The store the module's own operations go through, each reported to `availability` and to
   * whatever else observes the store: one wrapper, however many observers.
   */
  observe(store: SessionStore, availability: StoreObserver): SessionStore {
    return new ObservedSessionStore(store, this.observer ? combineObservers([availability, this.observer]) : availability);
  }

  /** The event as listeners get it: with the request's trace id when there is one, and counted. */
  record(event: AuthEvent): AuthEvent {
    const traceId = this.traceId();
    const traced = traceId === null ? event : { ...event, traceId };
    this.metrics?.onEvent(traced);
    return traced;
  }

  onModuleDestroy(): void {
    this.metrics?.remove();
  }
}
