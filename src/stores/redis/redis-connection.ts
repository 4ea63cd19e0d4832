import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import { boundedOperation } from '../../core/bounded-operation.js';
import { SessionConfigurationError } from '../../core/errors.js';
import type { RedisStoreOptions } from '../../core/store-options.js';

/**
 * Connection defaults for clients the store makes: fail fast instead of queueing while Redis is
 * away, so a request answers 503 within operationTimeoutMs rather than waiting for a reconnect.
 */
const OWNED_CLIENT_DEFAULTS: RedisOptions = { maxRetriesPerRequest: 1 };

const SENTINEL_URL = /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/@]+)\/([^/?#]+)\/?$/;

/** The one client the options describe, and whether the store made it (and so closes it). */
export function connect(options: RedisStoreOptions): { client: Redis | Cluster; ownsClient: boolean } {
  const sources = [options.url, options.options, options.cluster, options.client].filter((source) => source !== undefined);
  if (sources.length !== 1) {
    throw new SessionConfigurationError(
      'store',
      `was given ${sources.length} Redis connection sources`,
      'Give exactly one of `url`, `options`, `cluster` or `client`.',
    );
  }
  if (options.client) return { client: options.client, ownsClient: false };
  const client = newClient(options);
  // Without a listener ioredis reports connection errors as unhandled; the store reports them per operation instead.
  client.on('error', () => undefined);
  return { client, ownsClient: true };
}

function newClient({ url, options, cluster }: RedisStoreOptions): Redis | Cluster {
  if (cluster !== undefined) return new Cluster(clusterNodes(cluster.nodes), clusterOptions(cluster.options));
  if (url !== undefined) {
    if (typeof url !== 'string') throw new SessionConfigurationError('store.url', `is ${typeof url}`, 'Use a redis:// URL string.');
    return url.startsWith('redis+sentinel:') ? new Redis(sentinelUrl(url)) : new Redis(url, OWNED_CLIENT_DEFAULTS);
  }
  if (options?.sentinels !== undefined) return new Redis({ ...OWNED_CLIENT_DEFAULTS, ...checkedSentinelOptions(options) });
  return new Redis({ ...OWNED_CLIENT_DEFAULTS, ...options });
}

function clusterNodes(nodes: unknown): ClusterNode[] {
  const fix = "Give the cluster's seed nodes, e.g. cluster: { nodes: ['10.0.0.1:6379', { host: '10.0.0.2', port: 6379 }] }.";
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new SessionConfigurationError('store.cluster.nodes', 'is not a non-empty list', fix);
  }
  nodes.forEach((node: unknown, index) => {
    const valid =
      (typeof node === 'string' && /^[^\s:]+:\d{1,5}$/.test(node)) ||
      isPort(node) ||
      (typeof node === 'object' && node !== null && (typeof (node as { host?: unknown }).host === 'string' || isPort((node as { port?: unknown }).port)));
    if (!valid) throw new SessionConfigurationError(`store.cluster.nodes[${index}]`, `is ${JSON.stringify(node)}`, fix);
  });
  return nodes as ClusterNode[];
}

/** The caller's ClusterOptions over ours: node connections fail fast like a single client's. */
function clusterOptions(options: ClusterOptions | undefined): ClusterOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new SessionConfigurationError('store.cluster.options', `is ${JSON.stringify(options)}`, 'Use ioredis ClusterOptions or leave it out.');
  }
  return { ...options, redisOptions: { ...OWNED_CLIENT_DEFAULTS, ...options?.redisOptions } };
}

function checkedSentinelOptions(options: RedisOptions): RedisOptions {
  const { sentinels, name } = options;
  if (!Array.isArray(sentinels) || sentinels.length === 0) {
    throw new SessionConfigurationError(
      'store.options.sentinels',
      'is not a non-empty list',
      "List the sentinels, e.g. options: { sentinels: [{ host: '10.0.0.1', port: 26379 }], name: 'mymaster' }.",
    );
  }
  sentinels.forEach((sentinel: unknown, index) => {
    if (typeof sentinel !== 'object' || sentinel === null || !isPort((sentinel as { port?: unknown }).port)) {
      throw new SessionConfigurationError(`store.options.sentinels[${index}]`, `is ${JSON.stringify(sentinel)}`, 'Use { host, port }.');
    }
  });
  if (typeof name !== 'string' || name === '') {
    throw new SessionConfigurationError(
      'store.options.name',
      name === undefined ? 'is missing' : `is ${JSON.stringify(name)}`,
      'With sentinels, name the master group the sentinels monitor (their `sentinel monitor <name> ...`).',
    );
  }
  return options;
}

/** `redis+sentinel://[user:pass@]host:port,host:port/<master name>` as ioredis Sentinel options. */
function sentinelUrl(url: string): RedisOptions {
  const fix = 'Use redis+sentinel://[user:password@]host:port,host:port/<master name>.';
  const match = SENTINEL_URL.exec(url);
  if (!match) throw new SessionConfigurationError('store.url', 'is not a valid redis+sentinel URL', fix);
  const [, credentials, hosts, name] = match;
  const sentinels = hosts.split(',').map((address) => {
    const parts = /^([^:\s]+):(\d{1,5})$/.exec(address);
    if (!parts || !isPort(Number(parts[2]))) {
      throw new SessionConfigurationError('store.url', `names the sentinel ${JSON.stringify(address)}`, fix);
    }
    return { host: parts[1], port: Number(parts[2]) };
  });
  const [username, password] = credentials === undefined ? [] : credentials.split(':', 2).map(decodeURIComponent);
  return {
    ...OWNED_CLIENT_DEFAULTS,
    sentinels,
    name: decodeURIComponent(name),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
  };
}

function isPort(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) > 0 && (value as number) < 65536;
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
