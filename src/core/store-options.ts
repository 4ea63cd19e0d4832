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
  /**
   * Write the commands sent during one event-loop turn together when the turn ends (one socket
   * write for all the requests handled in it; see README, Performance). Turn it off under test
   * setups that fake `setImmediate` globally before the module loads. Default: true.
   */
  batchWrites?: boolean;
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

/**
 * The calls the PostgreSQL store makes on a pool, written out so these options need no `pg`
 * types: a `pg.Pool` fits.
 */
export interface PostgresPool {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
  connect(): Promise<PostgresPoolClient>;
  end(): Promise<void>;
}

export interface PostgresPoolClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
  release(error?: Error | boolean): void;
}

export interface PostgresStoreOptions {
  /** A PostgreSQL URL such as `postgres://user:pass@host:5432/app`. Give exactly one of connectionString, pool, poolOptions. */
  connectionString?: string;
  /** The app's `pg.Pool`. It stays yours: the store never ends it. */
  pool?: PostgresPool;
  /** `pg.Pool` options for a pool the store makes (and ends on shutdown). */
  poolOptions?: Record<string, unknown>;
  /** The schema of the store's tables. Default: `'public'`. */
  schema?: string;
  /** The sessions table; its locks, nonces and login counters go in `<tableName>_locks`, `_nonces`, `_throttle`. Default: `'session_auth_sessions'`. */
  tableName?: string;
  /**
   * Create the tables at start-up (idempotent, under an advisory lock, so several instances may
   * start at once). Without it a missing table fails start-up. Default: false.
   */
  migrate?: boolean;
  /** How often expired rows are deleted (one instance at a time, in small batches). Default: 60000 (ms). */
  sweepIntervalMs?: number;
  /**
   * Longest a store operation may take before the request gets 503 (also the statement timeout
   * of connections the store makes). Default: 2000 (ms).
   */
  operationTimeoutMs?: number;
}
