import type { Cluster, Redis } from 'ioredis';
import { SessionConfigurationError } from '../../core/errors.js';
import type { SessionRecord, TouchPolicy } from '../../core/session-store.js';
import type { NearCacheOptions } from '../../core/store-options.js';
import { InvalidationListener } from './invalidation-listener.js';
import { NearCache, type CachedSession } from './near-cache.js';
import { fieldsToRecord } from './redis-record.js';
import { READ_FOR_CACHE, repliedFields, touchArguments, type RedisScript } from './redis-scripts.js';
import { SlideWriter } from './slide-writer.js';

export const NEAR_CACHE_DEFAULTS = { writeBehindMs: 1000, heartbeatIntervalMs: 100, maxLagMs: 500 } as const;

/** What the near cache has done, for tests and metrics. */
export interface NearCacheStats {
  /** Whether reads may be served from memory now (the invalidation channel is proven fresh). */
  serving: boolean;
  entries: number;
  hits: number;
  misses: number;
  /** Subscriber connection id of the invalidation channel (CLIENT ID), null while it is down. */
  invalidationClientId: number | null;
}

type ScriptRun = (script: RedisScript, keysAndArgs: Array<string | number>) => Promise<unknown>;

/**
 * The Redis store's reads through a near cache (RedisStoreOptions.nearCache). A hit is served only
 * when Redis would answer the same: the invalidation channel is fresh (InvalidationListener), the
 * key has not expired in Redis, the absolute deadline and the read's idle rule hold on the values
 * Redis holds; the idle-expiry slide is then written behind (SlideWriter). Everything a read
 * depends on is announced on invalidation: the session's hash and the user's epoch key (which
 * revoke-all replaces) share the tracked prefix.
 */
export class NearCachedSessions {
  private readonly cache: NearCache;
  private readonly listener: InvalidationListener;
  private readonly slides: SlideWriter;
  /** How late a slide taken now can reach Redis: the next flush, then its bound. */
  private readonly slideLatencyMs: number;
  private hits = 0;
  private misses = 0;

  constructor(
    client: Redis,
    private readonly keyPrefix: string,
    options: Required<NearCacheOptions>,
    operationTimeoutMs: number,
    private readonly run: ScriptRun,
    /** The store's warning listener (RedisSessionStore's `onWarning`). */
    onWarning: (message: string) => void,
  ) {
    this.cache = new NearCache(options.maxEntries);
    this.slides = new SlideWriter(client, options.writeBehindMs, operationTimeoutMs);
    this.slideLatencyMs = options.writeBehindMs + operationTimeoutMs;
    this.listener = new InvalidationListener(client, keyPrefix, options, {
      onInvalidate: (keys) => (keys === null ? this.cache.clear() : keys.forEach((key) => this.invalidate(key))),
      onLost: () => this.cache.clear(),
      onRefused: (reason) => onWarning(trackingRefusedWarning(reason)),
    });
  }

  async read(key: string, epochKey: string, tag: string, touch: TouchPolicy): Promise<SessionRecord | null> {
    const served = this.serve(key, epochKey, touch);
    if (served) {
      this.hits++;
      return served;
    }
    this.misses++;
    // Only a read sent while the channel is fresh may fill the cache: a write made while it was
    // not may never be announced. A loss while the read is in flight marks the fill stale.
    const fill = this.listener.isFresh() ? this.cache.beginFill(key, tag) : null;
    let kept: CachedSession | null = null;
    try {
      // Monotonic: the key's PTTL is a duration, and a wall-clock step must not stretch it.
      const sentAt = performance.now();
      const reply = (await this.run(READ_FOR_CACHE, [key, epochKey, ...touchArguments(touch)])) as [string, number] | null;
      if (!reply) return null;
      const flat = repliedFields(reply[0]);
      const record = flat && fieldsToRecord(flat);
      if (record && reply[1] > 0 && this.listener.isFresh()) kept = { record, tag, keyExpiresAt: sentAt + reply[1] };
      return record && copyOf(record, record.lastSeenAt);
    } finally {
      if (fill) this.cache.endFill(fill, kept);
    }
  }

  /**
   * This process changed the session (or, with `key` null, any session of the tag): evicted now,
   * not when the invalidation arrives. A slide pending for it stays: a data write in the request
   * that read the session does not slide (PATCH), so the slide is still owed; for a session
   * destroyed or moved (RENAME) SLIDE finds no key and does nothing.
   */
  evict(tag: string, key: string | null): void {
    if (key === null) this.cache.evictTag(tag);
    else this.cache.evictKey(key);
  }

  stats(): NearCacheStats {
    return {
      serving: this.listener.isFresh(),
      entries: this.cache.size,
      hits: this.hits,
      misses: this.misses,
      invalidationClientId: this.listener.invalidationClientId,
    };
  }

  async close(): Promise<void> {
    await this.slides.close();
    await this.listener.close();
  }

  /** The record Redis would answer, from memory; undefined when only Redis can tell. */
  private serve(key: string, epochKey: string, touch: TouchPolicy): SessionRecord | undefined {
    if (!this.listener.isFresh()) return undefined;
    const entry = this.cache.get(key);
    if (!entry || performance.now() >= entry.keyExpiresAt) return undefined;
    const { record } = entry;
    const now = touch.now;
    if (now >= record.absoluteExpiresAt) return undefined;
    if ((touch.idleRule ?? 'last-seen') === 'refresh-token') {
      if (!record.refresh || now >= record.refresh.expiresAt) return undefined;
    } else if (now >= record.lastSeenAt + touch.idleTimeoutMs) {
      return undefined;
    }
    if (now - record.lastSeenAt < touch.touchIntervalMs) return copyOf(record, record.lastSeenAt);
    if (this.expiresBeforeSlideLands(entry, touch)) return undefined;
    if (!this.slides.accept(key, epochKey, touch)) return undefined;
    const moves = touch.cookieIdleTimeoutMs === undefined || now < record.lastSeenAt + touch.cookieIdleTimeoutMs;
    return copyOf(record, moves ? now : record.lastSeenAt);
  }

  /** Whether the session may be gone before a slide written behind reaches Redis: then Redis slides it now, in the read. */
  private expiresBeforeSlideLands(entry: CachedSession, touch: TouchPolicy): boolean {
    if (performance.now() + this.slideLatencyMs >= entry.keyExpiresAt) return true;
    return (touch.idleRule ?? 'last-seen') === 'last-seen' && touch.now + this.slideLatencyMs >= entry.record.lastSeenAt + touch.idleTimeoutMs;
  }

  private invalidate(key: string): void {
    if (!key.startsWith(`${this.keyPrefix}{`)) return;
    const close = key.indexOf('}', this.keyPrefix.length + 1);
    if (close < 0) return;
    const rest = key.slice(close + 1);
    if (rest.startsWith(':s:')) this.cache.evictKey(key);
    else if (rest === ':g') this.cache.evictTag(key.slice(this.keyPrefix.length + 1, close));
  }
}

function trackingRefusedWarning(reason: string): string {
  return (
    `store.nearCache is set, but Redis refused the invalidation tracking it needs (${reason}): every session is read from Redis, none from memory. ` +
    'Let the store\'s Redis user run CLIENT ID, CLIENT TRACKING and SUBSCRIBE __redis__:invalidate (Redis 6 or later; ACL: +client|id +client|tracking +subscribe &__redis__:invalidate), ' +
    'or leave store.nearCache out.'
  );
}

/** A copy the caller may change, with lastSeenAt as this read leaves it. */
function copyOf(record: SessionRecord, lastSeenAt: number): SessionRecord {
  return { ...record, lastSeenAt, data: { ...record.data } };
}

/** The near cache options with defaults, checked at boot; undefined when off. */
export function resolveNearCache(options: NearCacheOptions | undefined): Required<NearCacheOptions> | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new SessionConfigurationError('store.nearCache', 'is not an object', 'Use { maxEntries: 10000 } or leave it out.');
  }
  const resolved = { ...NEAR_CACHE_DEFAULTS, ...options };
  for (const name of ['maxEntries', 'writeBehindMs', 'heartbeatIntervalMs', 'maxLagMs'] as const) {
    const value: unknown = resolved[name];
    if (!Number.isSafeInteger(value) || (value as number) <= 0) {
      throw new SessionConfigurationError(`store.nearCache.${name}`, `is ${JSON.stringify(value)}`, 'Use a positive whole number.');
    }
  }
  if (resolved.maxLagMs < 2 * resolved.heartbeatIntervalMs) {
    throw new SessionConfigurationError(
      'store.nearCache.maxLagMs',
      `is ${resolved.maxLagMs}, less than two heartbeats (heartbeatIntervalMs ${resolved.heartbeatIntervalMs})`,
      'Make maxLagMs at least twice heartbeatIntervalMs.',
    );
  }
  return resolved;
}

/** Client tracking announces only the writes of the node a connection is on: one Redis (or a Sentinel-managed primary) only. */
export function assertNearCacheSupported(client: Redis | Cluster): asserts client is Redis {
  if ((client as Cluster).isCluster) {
    throw new SessionConfigurationError(
      'store.nearCache',
      'is set for a Redis Cluster client',
      'Leave nearCache out with Redis Cluster: client tracking announces only the writes of the node a connection is on.',
    );
  }
}
