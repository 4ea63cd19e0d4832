import type * as PromClient from 'prom-client';
import type { AuthEvent } from '../../core/auth-events.js';
import { SessionConfigurationError } from '../../core/errors.js';
import type { MetricsRegistry, ResolvedMetricsOptions } from '../../core/metrics-options.js';
import type { StoreObserver, StoreOperationName } from '../../core/observed-session-store.js';
import { RecentSessions } from '../../core/recent-sessions.js';
import type { CreateOptions, CreateResult, RefreshRotation, SessionRecord } from '../../core/session-store.js';
import type { SessionRef, UserRef } from '../../core/session-token.js';
import { storeErrorKind } from './store-error-kind.js';

/** An optional peer: named in a variable so that neither build resolves it at compile time. */
const PROM_CLIENT_PACKAGE = 'prom-client';

/** The `outcome` label of `logins_total`, pre-filled with 0 so dashboards see every series from the start. */
const LOGIN_OUTCOMES = ['succeeded', 'bad-credentials', 'throttled', 'cross-site', 'refused-limit'] as const;
const REFRESH_OUTCOMES = ['rotated', 'replayed', 'reused', 'invalid'] as const;
const REVOCATION_REASONS = ['logout', 'revoked', 'evicted'] as const;
/** Seconds; Redis answers in well under a millisecond, a timeout in whole seconds. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** prom-client, loaded at boot only when metrics are asked for; a clear error when it is not installed. */
export async function loadPromClient(specifier = PROM_CLIENT_PACKAGE): Promise<typeof PromClient> {
  try {
    const loaded = (await import(specifier)) as typeof PromClient & { default?: typeof PromClient };
    // The CommonJS package seen from ESM: its exports may sit on `default`.
    return typeof loaded.Counter === 'function' ? loaded : loaded.default!;
  } catch (error) {
    throw new SessionConfigurationError(
      'metrics',
      `needs the prom-client package, which could not be loaded (${(error as Error).message.split('\n')[0]})`,
      'Install it (`npm install prom-client`), or remove the metrics option.',
    );
  }
}

/**
 * The module's Prometheus metrics (names in the README's Operations section). Fed by auth events
 * (logins, reuse, revocations) and, as a StoreObserver, by every store operation of the module
 * (latency, errors, refresh outcomes, session activity). Removed from the registry on shutdown,
 * so an app that is built again in the same process can register them again.
 */
export class SessionMetrics implements StoreObserver {
  private readonly registry: PromClient.Registry;
  private readonly names: string[] = [];
  private readonly logins: PromClient.Counter<'outcome'>;
  private readonly refreshes: PromClient.Counter<'outcome'>;
  private readonly refreshReuse: PromClient.Counter;
  private readonly revocations: PromClient.Counter<'reason'>;
  private readonly storeDuration: PromClient.Histogram<'operation'>;
  private readonly storeErrors: PromClient.Counter<'operation' | 'kind'>;
  private readonly recent: RecentSessions;

  constructor(prom: typeof PromClient, options: ResolvedMetricsOptions, activeWindowMs: number) {
    this.registry = (options.registry as PromClient.Registry | null) ?? prom.register;
    const { prefix } = options;
    this.recent = new RecentSessions(activeWindowMs);
    const registers = [this.registry];
    const named = <T>(name: string, make: (name: string) => T): T => {
      const full = `${prefix}${name}`;
      assertFree(this.registry, full);
      const metric = make(full);
      this.names.push(full);
      return metric;
    };
    this.logins = named('logins_total', (name) => new prom.Counter({ name, help: 'Login attempts, by outcome.', labelNames: ['outcome'], registers }));
    this.refreshes = named('refreshes_total', (name) =>
      new prom.Counter({ name, help: 'Refresh token exchanges that reached the store, by outcome.', labelNames: ['outcome'], registers }),
    );
    this.refreshReuse = named('refresh_reuse_total', (name) =>
      new prom.Counter({ name, help: 'Consumed refresh tokens presented again (each revoked its whole family).', registers }),
    );
    this.revocations = named('revocations_total', (name) =>
      new prom.Counter({ name, help: 'Sessions ended before their expiry, by reason.', labelNames: ['reason'], registers }),
    );
    const recent = this.recent;
    named('sessions_active', (name) =>
      new prom.Gauge({
        name,
        help: 'User sessions this process created or found within the idle timeout and has not seen end.',
        registers,
        collect() {
          this.set(recent.count());
        },
      }),
    );
    this.storeDuration = named('store_operation_duration_seconds', (name) =>
      new prom.Histogram({ name, help: 'Session store operations, by operation.', labelNames: ['operation'], buckets: DURATION_BUCKETS, registers }),
    );
    this.storeErrors = named('store_errors_total', (name) =>
      new prom.Counter({ name, help: 'Failed session store operations, by operation and kind.', labelNames: ['operation', 'kind'], registers }),
    );
    for (const outcome of LOGIN_OUTCOMES) this.logins.labels(outcome).inc(0);
    for (const outcome of REFRESH_OUTCOMES) this.refreshes.labels(outcome).inc(0);
    for (const reason of REVOCATION_REASONS) this.revocations.labels(reason).inc(0);
  }

  onEvent(event: AuthEvent): void {
    switch (event.type) {
      case 'login.succeeded':
        this.logins.labels('succeeded').inc();
        return;
      case 'login.failed':
        this.logins.labels(event.reason).inc();
        return;
      case 'login.refused-limit':
        this.logins.labels('refused-limit').inc();
        return;
      case 'refresh.reused':
        this.refreshReuse.inc();
        return;
      case 'logout':
        this.revocations.labels('logout').inc();
        return;
      case 'session.revoked':
        if (event.count > 0) this.revocations.labels('revoked').inc(event.count);
        return;
      case 'session.evicted':
        if (event.count > 0) this.revocations.labels('evicted').inc(event.count);
        return;
      default:
        return;
    }
  }

  start(operation: StoreOperationName, args: readonly unknown[]): (error: unknown, result?: unknown) => void {
    const stopTimer = this.storeDuration.startTimer({ operation });
    return (error, result) => {
      stopTimer();
      if (error !== undefined) {
        this.storeErrors.labels(operation, storeErrorKind(error)).inc();
        return;
      }
      this.noteActivity(operation, args, result);
    };
  }

  /** Unregisters the metrics (module shutdown). */
  remove(): void {
    for (const name of this.names) this.registry.removeSingleMetric(name);
  }

  /** The active-session gauge's bookkeeping (RecentSessions), and the refresh outcomes. */
  private noteActivity(operation: StoreOperationName, args: readonly unknown[], result: unknown): void {
    const ref = args[0] as SessionRef;
    switch (operation) {
      case 'read': {
        const record = result as SessionRecord | null;
        if (record?.userId) this.recent.touch(ref, record.handle, record.userId);
        return;
      }
      case 'create': {
        const [, record, , options] = args as [SessionRef, SessionRecord, number, CreateOptions | undefined];
        const created = result as CreateResult;
        if (created.outcome !== 'created') return;
        if (options?.replaces) this.recent.forget(options.replaces);
        created.evicted.forEach((handle) => this.recent.forgetHandle(handle));
        if (record.userId !== null) this.recent.touch(ref, record.handle, record.userId);
        return;
      }
      case 'rotateRefreshToken': {
        const rotation = result as RefreshRotation;
        this.refreshes.labels(rotation.outcome).inc();
        if (rotation.outcome === 'reused') this.recent.forget(ref);
        else if (rotation.outcome !== 'invalid' && rotation.record.userId) this.recent.touch(ref, rotation.record.handle, rotation.record.userId);
        return;
      }
      case 'rename':
        if (result === true) this.recent.moved(ref, args[1] as SessionRef);
        return;
      case 'destroy':
      case 'destroyByRefreshToken':
        this.recent.forget(ref);
        return;
      case 'destroyByHandle':
        if (result === true) this.recent.forgetHandle(args[1] as string);
        return;
      case 'destroyByUser':
        this.recent.forgetUser((args[0] as UserRef).id, args[1] as string | undefined);
        return;
      default:
        return;
    }
  }
}

function assertFree(registry: MetricsRegistry, name: string): void {
  if (registry.getSingleMetric(name) === undefined) return;
  throw new SessionConfigurationError(
    'metrics',
    `would register ${name}, which the registry already has (a second SessionModule, or another library)`,
    'Give this module its own `metrics.prefix` or `metrics.registry`.',
  );
}
