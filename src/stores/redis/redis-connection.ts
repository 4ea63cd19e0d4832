import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { boundedOperation } from '../../core/bounded-operation.js';
import { SessionConfigurationError } from '../../core/errors.js';
import type { RedisStoreOptions } from '../../core/store-options.js';

/** Connection defaults for clients the store makes: fail fast instead of queueing while Redis is away. */
const OWNED_CLIENT_DEFAULTS: RedisOptions = { maxRetriesPerRequest: 1 };

/** The one client the options describe, and whether the store made it (and so closes it). */
export function connect(options: RedisStoreOptions): { client: Redis | Cluster; ownsClient: boolean } {
  const sources = [options.url, options.options, options.client].filter((source) => source !== undefined);
  if (sources.length !== 1) {
    throw new SessionConfigurationError(
      'store',
      `was given ${sources.length} Redis connection sources`,
      'Give exactly one of `url`, `options` or `client`.',
    );
  }
  if (options.client) return { client: options.client, ownsClient: false };
  const client = options.url !== undefined ? new Redis(options.url, OWNED_CLIENT_DEFAULTS) : new Redis({ ...OWNED_CLIENT_DEFAULTS, ...options.options });
  // Without a listener ioredis reports connection errors as unhandled; the store reports them per operation instead.
  client.on('error', () => undefined);
  return { client, ownsClient: true };
}

/**
 * Warns when Redis may evict keys on its own: an evicted session index or epoch weakens
 * revoke-all and the per-user bound, so the store needs `maxmemory-policy noeviction`. Asked once
 * at start-up, bounded by `timeoutMs`; a refused CONFIG (managed Redis) or an unreachable Redis
 * says nothing, and never fails or delays start-up.
 */
export async function warnUnlessNoEviction(client: Redis | Cluster, timeoutMs: number, onWarning: (message: string) => void): Promise<void> {
  let policy: unknown;
  try {
    const reply = await boundedOperation('config', (client as Redis).config('GET', 'maxmemory-policy'), timeoutMs);
    policy = Array.isArray(reply) ? reply[1] : undefined;
  } catch {
    return;
  }
  if (typeof policy === 'string' && policy !== 'noeviction') {
    onWarning(
      `Redis maxmemory-policy is ${policy}: under memory pressure Redis may evict session indexes and epochs, ` +
        'weakening revoke-all and the per-user session bound. Set maxmemory-policy noeviction for the sessions Redis.',
    );
  }
}

/** Closes a client the store made itself. */
export async function closeOwnedClient(client: Redis | Cluster): Promise<void> {
  if (client.status === 'end') return;
  // QUIT on a connection that is not up would leave ioredis reconnecting; drop it instead.
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await client.quit();
  } catch {
    // Already disconnected (Redis down at shutdown): nothing left to close gracefully.
    client.disconnect();
  }
}
