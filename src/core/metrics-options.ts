import { SessionConfigurationError } from './errors.js';

/**
 * The part of a prom-client `Registry` the module uses, written out so that the options (and the
 * package's types) do not depend on prom-client: any `Registry` of prom-client 15 fits.
 */
export interface MetricsRegistry {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
  removeSingleMetric(name: string): void;
}

export interface SessionMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's default registry (`register`). */
  registry?: MetricsRegistry;
  /** Put before every metric name. Default: `'session_auth_'`. */
  prefix?: string;
}

export interface ResolvedMetricsOptions {
  /** Null: prom-client's default registry. */
  registry: MetricsRegistry | null;
  prefix: string;
}

export const DEFAULT_METRICS_PREFIX = 'session_auth_';

// Prometheus data model: metric names match [a-zA-Z_:][a-zA-Z0-9_:]*.
const METRIC_NAME_PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export function resolveMetrics(metrics: boolean | SessionMetricsOptions | undefined): ResolvedMetricsOptions | null {
  if (metrics === undefined || metrics === false) return null;
  if (metrics === true) return { registry: null, prefix: DEFAULT_METRICS_PREFIX };
  if (typeof metrics !== 'object' || metrics === null) {
    throw new SessionConfigurationError('metrics', `is ${JSON.stringify(metrics)}`, 'Use true, or { registry, prefix }.');
  }
  const prefix = metrics.prefix ?? DEFAULT_METRICS_PREFIX;
  if (typeof prefix !== 'string' || !METRIC_NAME_PREFIX.test(prefix)) {
    throw new SessionConfigurationError('metrics.prefix', `is ${JSON.stringify(prefix)}`, 'Use letters, digits, _ or :, not starting with a digit.');
  }
  const registry = metrics.registry ?? null;
  if (registry !== null && (typeof registry !== 'object' || typeof registry.registerMetric !== 'function')) {
    throw new SessionConfigurationError('metrics.registry', 'is not a prom-client Registry', "Pass a `new Registry()` from prom-client, or leave it out for prom-client's default one.");
  }
  return { registry, prefix };
}
