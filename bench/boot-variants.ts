import type { Redis } from 'ioredis';
import { refusesRequirement, trackingClients, unavailableBeforeBoot } from './support/availability.js';
import { AppBootError, startApp, type AppProcess } from './support/app-process.js';
import { pinProcess, type CpuPinning } from './support/cpu-pinning.js';
import { logIn, type Headers } from './support/credentials.js';
import { startPostgresServer, type PostgresServer } from './support/postgres-server.js';
import type { AppSpec } from './servers/app-spec.js';
import type { BenchServers, Variant } from './variants.js';

export interface LiveVariant {
  variant: Variant;
  app: AppProcess;
  /** What authenticates the guarded route; empty for the floor. */
  headers: Headers;
}

export interface BootResult {
  live: LiveVariant[];
  unavailable: Array<{ variant: Variant; reason: string }>;
  postgres: PostgresServer | null;
}

/** Stands in for the private PostgreSQL's URL while checking options, before it is started. */
const PLACEHOLDER_POSTGRES_URL = 'postgres://bench@127.0.0.1:1/bench';

function storeOf(spec: AppSpec): Record<string, unknown> {
  if (spec.kind !== 'module') throw new Error(`a requirement only applies to the module's variants, not to ${spec.kind}`);
  return spec.store;
}

/** Requests that make a lazily built store (and so its tracking connection) exist. */
const REQUESTS_BEFORE_TRACKING_CHECK = 20;

async function isTrackingNow(redis: Redis, base: string, headers: Headers, before: number): Promise<boolean> {
  for (let i = 0; i < REQUESTS_BEFORE_TRACKING_CHECK; i++) await (await fetch(`${base}/guarded`, { headers })).arrayBuffer();
  return (await trackingClients(redis)) > before;
}

/**
 * Starts each variant's app (one process each, one after the other) and logs it in. A variant
 * whose feature this build lacks is listed as unavailable instead; any other failure stops the run.
 */
export async function bootVariants(variants: Variant[], redis: Redis, redisUrl: string, pinning: CpuPinning | null): Promise<BootResult> {
  const result: BootResult = { live: [], unavailable: [], postgres: null };
  for (const variant of variants) {
    const requirement = variant.requires;
    const refused = requirement ? unavailableBeforeBoot(requirement, storeOf(variant.app({ redisUrl, postgresUrl: PLACEHOLDER_POSTGRES_URL }))) : null;
    if (refused !== null) {
      result.unavailable.push({ variant, reason: refused });
      continue;
    }
    if (variant.needsPostgres && result.postgres === null) result.postgres = await startPostgresServer();
    const servers: BenchServers = { redisUrl, ...(result.postgres && { postgresUrl: result.postgres.url }) };
    const trackingBefore = await trackingClients(redis);
    const started = Date.now();
    let app: AppProcess;
    try {
      app = await startApp(variant.app(servers));
    } catch (error) {
      if (requirement && error instanceof AppBootError && refusesRequirement(requirement, error.option)) {
        result.unavailable.push({ variant, reason: `not available: ${error.message}` });
        continue;
      }
      throw new Error(`${variant.id} did not start: ${(error as Error).message}`, { cause: error });
    }
    if (pinning) pinProcess(app.pid, pinning.app);
    const headers = variant.credential ? await logIn(app.base, variant.credential, 'bench-user') : {};
    if (requirement && 'storeOption' in requirement && !(await isTrackingNow(redis, app.base, headers, trackingBefore))) {
      await app.stop();
      result.unavailable.push({ variant, reason: `not available: the store accepts ${requirement.storeOption} but no Redis connection turned client tracking on` });
      continue;
    }
    result.live.push({ variant, app, headers });
    console.log(`started ${variant.id} (pid ${app.pid}) in ${Date.now() - started} ms`);
  }
  return result;
}
