import type { SessionStoreOption } from '../core/session-options.js';
import type { SessionStore } from '../core/session-store.js';

/** A store the demo describes by options (it never hands over a store instance). */
export type DemoStoreOption = Exclude<SessionStoreOption, SessionStore>;

/**
 * The demo's store from its environment: REDIS_URL (one Redis, or a redis+sentinel:// URL),
 * REDIS_CLUSTER_NODES (`host:port,host:port,...`, a Redis Cluster), or REDIS_SENTINELS
 * (`host:port,...`) with REDIS_SENTINEL_NAME, or DATABASE_URL (PostgreSQL, its table migrated at boot);
 * none of them: memory. Exactly one source.
 */
export function readDemoStore(env: NodeJS.ProcessEnv): DemoStoreOption {
  const sources = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'DATABASE_URL'].filter((name) => env[name]);
  if (sources.length > 1) {
    const are = sources.length === 2 ? 'are both' : 'are all';
    throw new Error(`${sources.join(' and ')} ${are} set: the demo keeps sessions in one store, so set only one of them.`);
  }
  if (env.REDIS_SENTINEL_NAME && !env.REDIS_SENTINELS) throw new Error('REDIS_SENTINEL_NAME needs REDIS_SENTINELS: set both.');
  const keyPrefix = env.REDIS_KEY_PREFIX ?? 'demo-sess:';
  // NEAR_CACHE=1: hot sessions from process memory, kept coherent by Redis (not on a Cluster).
  const nearCache = env.NEAR_CACHE === '1' ? { nearCache: { maxEntries: 10_000 } } : {};
  if (env.REDIS_URL) return { type: 'redis', url: env.REDIS_URL, keyPrefix, ...nearCache };
  if (env.REDIS_CLUSTER_NODES) return { type: 'redis', cluster: { nodes: addresses('REDIS_CLUSTER_NODES', env.REDIS_CLUSTER_NODES) }, keyPrefix };
  if (env.REDIS_SENTINELS) {
    if (!env.REDIS_SENTINEL_NAME) throw new Error('REDIS_SENTINELS needs REDIS_SENTINEL_NAME, the master group the sentinels monitor.');
    const sentinels = addresses('REDIS_SENTINELS', env.REDIS_SENTINELS);
    return { type: 'redis', options: { sentinels, name: env.REDIS_SENTINEL_NAME }, keyPrefix, ...nearCache };
  }
  if (env.DATABASE_URL) return { type: 'postgres', connectionString: env.DATABASE_URL, migrate: true };
  return { type: 'memory' };
}

function addresses(name: string, list: string): Array<{ host: string; port: number }> {
  return list.split(',').map((address) => {
    const match = /^\s*([^\s:]+):(\d{1,5})\s*$/.exec(address);
    if (!match) throw new Error(`${name} has "${address}": use host:port,host:port,...`);
    return { host: match[1], port: Number(match[2]) };
  });
}
