import type { Cluster, Redis, RedisOptions } from 'ioredis';

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
  /** A Redis URL such as `redis://user:pass@host:6379/0`. Give exactly one of url, options, client. */
  url?: string;
  /** ioredis options for a new connection (the module closes it on shutdown). */
  options?: RedisOptions;
  /** An existing ioredis `Redis` or `Cluster` client. It stays yours: the store never closes it. */
  client?: Redis | Cluster;
  /** Put in front of every key, so several apps can share one Redis. Default: `'sess:'`. */
  keyPrefix?: string;
  /**
   * Longest a store operation may take before the request gets 503. Bounds the wait while
   * Redis is down instead of queueing requests forever. Default: 2000 (ms).
   */
  operationTimeoutMs?: number;
  /**
   * Serve hot sessions from process memory, kept coherent with Redis server-assisted client-side
   * caching (`CLIENT TRACKING ... BCAST`): any write to a session or its user's epoch, on any
   * instance, evicts it everywhere. Off by default. Not for a Redis Cluster client.
   */
  nearCache?: NearCacheOptions;
}

export interface NearCacheOptions {
  /** Most sessions held in memory; the least recently used go first. */
  maxEntries: number;
  /**
   * How often the idle-expiry slides of sessions served from memory are written to Redis, in one
   * pipeline (never later than `touchInterval` after they were due). Default: 1000 (ms).
   */
  writeBehindMs?: number;
  /** How often a heartbeat goes through the invalidation channel to prove it works. Default: 100 (ms). */
  heartbeatIntervalMs?: number;
  /**
   * Longest the invalidation channel may lag (a heartbeat not back yet) before the cache is
   * flushed and every read goes to Redis until heartbeats arrive again. Default: 500 (ms).
   */
  maxLagMs?: number;
}
