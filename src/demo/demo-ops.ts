import { Controller, Get, Header, Inject, type DynamicModule } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { register } from 'prom-client';
import type { SessionModuleOptions } from '../core/session-options.js';
import { Public } from '../nest/decorators.js';
import { SessionStoreHealthIndicator } from '../nest/health/session-store.health.js';
import type { DemoConfig } from './demo-config.js';

/** Well inside the 1 s a load balancer's probe usually allows. */
const HEALTH_TIMEOUT_MS = 500;

/**
 * `METRICS=1`: the module's metrics on prom-client's default registry, served by `GET /metrics`.
 * `STORE_UNAVAILABLE=reject|accept-stateless`: the `storeUnavailable` policy (jwt and hybrid mode).
 */
export function readDemoOpsOptions(env: NodeJS.ProcessEnv): Pick<SessionModuleOptions, 'metrics' | 'storeUnavailable'> {
  if (env.METRICS !== undefined && env.METRICS !== '0' && env.METRICS !== '1') throw new Error(`METRICS is "${env.METRICS}": use 1 or 0.`);
  const policy = env.STORE_UNAVAILABLE;
  if (policy !== undefined && policy !== 'reject' && policy !== 'accept-stateless') {
    throw new Error(`STORE_UNAVAILABLE is "${policy}": use reject or accept-stateless.`);
  }
  return { ...(env.METRICS === '1' && { metrics: true }), ...(policy !== undefined && { storeUnavailable: policy }) };
}

@Controller('health')
class DemoHealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(SessionStoreHealthIndicator) private readonly sessionStore: SessionStoreHealthIndicator,
  ) {}

  /** 200 while the session store answers within 500 ms, 503 otherwise. */
  @Get()
  @Public()
  @HealthCheck()
  check() {
    return this.health.check([() => this.sessionStore.isHealthy('session-store', { timeoutMs: HEALTH_TIMEOUT_MS })]);
  }
}

@Controller('metrics')
class DemoMetricsController {
  /** The Prometheus text format of prom-client's default registry, where `metrics: true` puts the module's metrics. */
  @Get()
  @Public()
  @Header('Content-Type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}

/** The demo module with `GET /health` always, and `GET /metrics` when METRICS=1. */
export function withDemoOps(module: DynamicModule, config: DemoConfig): DynamicModule {
  return {
    ...module,
    imports: [...(module.imports ?? []), TerminusModule.forRoot({ logger: false })],
    controllers: [...(module.controllers ?? []), DemoHealthController, ...(config.session.metrics ? [DemoMetricsController] : [])],
  };
}
