import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';

/**
 * How the stores the module can build are described in options. The descriptions belong to the
 * core (they are part of SessionModuleOptions); the stores read them, so arrows run from
 * `stores/` to `core/` and never back.
 */
export interface MemoryStoreOptions {
  /**
   * Most sessions kept at once; when full, expired sessions are swept and then the oldest
   * session is dropped. Keeps a flood of logins from exhausting the heap.
   * Default: 10000.
   */
  maxSessions?: number;
  /** How often expired sessions are swept. Default: 60000 (ms). */
  sweepIntervalMs?: number;
}

export interface RedisStoreOptions {
  /**
   * A Redis URL such as `redis://user:pass@host:6379/0`, or a Sentinel set as
   * `redis+sentinel://[user:pass@]host:port,host:port/<master name>`. Give exactly one of url,
   * options, cluster, client.
   */
  url?: string;
  /**
   * ioredis options for a new connection (the module closes it on shutdown). For Sentinel give
   * `{ sentinels: [{ host, port }, ...], name: '<master name>' }`.
   */
  options?: RedisOptions;
  /**
   * A Redis Cluster: seed nodes (`'host:port'`, a port, or `{ host, port }`) and ioredis
   * ClusterOptions for a new Cluster client (the module closes it on shutdown). Unless given,
   * the module sets `redisOptions.maxRetriesPerRequest: 1` so requests fail fast (503) while a
   * master is down; ioredis's own failover defaults (`scaleReads: 'master'`,
   * `maxRedirections: 16`, `retryDelayOnFailover: 100`) are kept.
   */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
  /** An existing ioredis `Redis` or `Cluster` client. It stays yours: the store never closes it. */
  client?: Redis | Cluster;
  /** Put in front of every key, so several apps can share one Redis. Default: `'sess:'`. */
  keyPrefix?: string;
  /**
   * Longest a store operation may take before the request gets 503. Bounds the wait while
   * Redis is down instead of queueing requests forever. Default: 2000 (ms).
   */
  operationTimeoutMs?: number;
}
