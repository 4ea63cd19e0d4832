import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis } from 'rate-limiter-flexible';
import type { LoginLimiters } from '../core/login-throttle.js';
import type { ResolvedLoginThrottle, ResolvedThrottleWindow } from '../core/protection-options.js';
import { RedisSessionStore } from './redis/redis-session-store.js';
import { PostgresSessionStore } from './postgres/postgres-session-store.js';
import type { SessionStore } from '../core/session-store.js';

/**
 * Login counters next to the sessions: in the store's Redis (under its key prefix, so shared by
 * every app instance), in the PostgreSQL store's throttle table, or, for any other store, in this
 * process's memory.
 */
export function createLoginLimiters(
  store: SessionStore,
  windows: ResolvedLoginThrottle,
): LoginLimiters {
  const limiter = (name: string, window: ResolvedThrottleWindow) => {
    const options = { points: window.attempts, duration: window.windowSeconds };
    if (store instanceof PostgresSessionStore) {
      // The store's migration made the table; its sweeper deletes expired counters.
      return new RateLimiterPostgres({
        ...options,
        storeClient: store.pool,
        storeType: 'pool',
        schemaName: store.tables.names.schema,
        tableName: store.tables.names.throttle,
        tableCreated: true,
        clearExpiredByTimeout: false,
        keyPrefix: `throttle:${name}`,
      });
    }
    return store instanceof RedisSessionStore
      ? new RateLimiterRedis({
          ...options,
          storeClient: store.client,
          keyPrefix: `${store.keyPrefix}throttle:${name}`,
        })
      : new RateLimiterMemory({ ...options, keyPrefix: `throttle:${name}` });
  };
  return {
    accountAndIp: limiter('account-ip', windows.perAccountAndIp),
    account: limiter('account', windows.perAccount),
    ip: limiter('ip', windows.perIp),
  };
}
