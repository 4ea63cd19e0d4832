import type { Redis } from 'ioredis';
import { logIn, writeTwoKeys } from '../support/credentials.js';
import type { Credential } from '../support/credentials.js';
import { footprint, keysWithPrefix, type KeyFootprint } from './redis-stats.js';

export interface SessionFootprint {
  bytes: number;
  keys: KeyFootprint[];
}

/**
 * The Redis memory one more session costs: a user who had none logs in and writes two small
 * data keys; every key that appeared under the variant's prefix is counted (the session, its
 * per-user index, anything else the login made), with `MEMORY USAGE ... SAMPLES 0`.
 */
export async function bytesPerSession(redis: Redis, base: string, credential: Credential, prefix: string): Promise<SessionFootprint> {
  const before = await keysWithPrefix(redis, prefix);
  const headers = await logIn(base, credential, `bytes-user-${Date.now()}`);
  await writeTwoKeys(base, headers);
  const added = [...(await keysWithPrefix(redis, prefix))].filter((key) => !before.has(key));
  const keys = await footprint(redis, prefix, added);
  return { bytes: keys.reduce((sum, key) => sum + key.bytes, 0), keys };
}
