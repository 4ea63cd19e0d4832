import type { Redis } from 'ioredis';
import { resolveSessionOptions, type SessionModuleOptions } from '../../src/core/session-options.js';
import { SessionConfigurationError } from '../../src/core/errors.js';
import { BENCH_SECRET } from '../servers/app-spec.js';
import type { Requirement } from '../variants.js';

/** The option a requirement is about, as a SessionConfigurationError would name it. */
export function requirementOption(requirement: Requirement): string {
  return 'storeType' in requirement ? 'store.type' : `store.${requirement.storeOption}`;
}

/** Whether a boot error is this build refusing the required feature (rather than a real failure). */
export function refusesRequirement(requirement: Requirement, option: string | undefined): boolean {
  if (option === undefined) return false;
  const named = requirementOption(requirement);
  return option === named || option.startsWith(`${named}.`) || option === requirementName(requirement);
}

function requirementName(requirement: Requirement): string {
  return 'storeType' in requirement ? 'store' : requirement.storeOption;
}

/**
 * Before anything is started for it: does this build's option check accept the store option
 * the variant writes? Null when it does, else why not. A store option that is accepted may
 * still be ignored: see `trackingClients`, checked after boot.
 */
export function unavailableBeforeBoot(requirement: Requirement, store: Record<string, unknown>): string | null {
  try {
    resolveSessionOptions({
      secret: BENCH_SECRET,
      validateUser: async () => null,
      store: store as unknown as SessionModuleOptions['store'],
    });
    return null;
  } catch (error) {
    if (error instanceof SessionConfigurationError && refusesRequirement(requirement, error.option)) {
      return `not available: ${error.message}`;
    }
    throw error;
  }
}

/**
 * Redis connections with client-side caching on (CLIENT LIST flag `t`, or `B` for broadcast):
 * the near cache's invalidation needs one, so a store that ignores `nearCache` adds none.
 */
export async function trackingClients(redis: Redis): Promise<number> {
  const list = (await redis.call('CLIENT', 'LIST')) as string;
  return list.split('\n').filter((line) => /\bflags=\S*[tB]/.test(line)).length;
}
