import type { SessionRecord } from '../../core/session-store.js';

/** A session as the near cache holds it. */
export interface CachedSession {
  record: SessionRecord;
  /** The user's slot tag: a change of the user's epoch evicts every cached session under it. */
  tag: string;
  /** When the Redis key expires at the latest (performance.now(), measured before the read was sent): never served later. */
  keyExpiresAt: number;
}

/** A read from Redis on its way into the cache; an invalidation while it is in flight makes it stale. */
export interface PendingFill {
  readonly key: string;
  readonly tag: string;
  stale: boolean;
}

/**
 * Sessions in process memory, least recently used evicted beyond `maxEntries`. Only holds what it
 * is given; whether an entry may be served is decided by NearCachedSessions. Fills race with
 * invalidations (the reply of a read and the invalidation of a later write arrive on different
 * connections, in either order), so a read registers before it is sent and is not kept when an
 * invalidation of its key, or of its user's epoch, arrived meanwhile.
 */
export class NearCache {
  private readonly entries = new Map<string, CachedSession>();
  private readonly pending = new Set<PendingFill>();
  /** Cached keys per slot tag, so an epoch change evicts a user's sessions without walking the cache. */
  private readonly byTag = new Map<string, Set<string>>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): CachedSession | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  beginFill(key: string, tag: string): PendingFill {
    const fill: PendingFill = { key, tag, stale: false };
    this.pending.add(fill);
    return fill;
  }

  /** Keeps the read's result unless it went stale; always ends the fill. */
  endFill(fill: PendingFill, entry: CachedSession | null): void {
    this.pending.delete(fill);
    if (fill.stale || entry === null) return;
    this.drop(fill.key);
    this.entries.set(fill.key, entry);
    const keys = this.byTag.get(entry.tag) ?? new Set<string>();
    keys.add(fill.key);
    this.byTag.set(entry.tag, keys);
    if (this.entries.size > this.maxEntries) this.drop(this.entries.keys().next().value!);
  }

  evictKey(key: string): void {
    this.drop(key);
    for (const fill of this.pending) if (fill.key === key) fill.stale = true;
  }

  /** Every session of the slot tag (the user's epoch changed). */
  evictTag(tag: string): void {
    for (const key of this.byTag.get(tag) ?? []) this.entries.delete(key);
    this.byTag.delete(tag);
    for (const fill of this.pending) if (fill.tag === tag) fill.stale = true;
  }

  clear(): void {
    this.entries.clear();
    this.byTag.clear();
    for (const fill of this.pending) fill.stale = true;
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    const keys = this.byTag.get(entry.tag);
    keys?.delete(key);
    if (keys?.size === 0) this.byTag.delete(entry.tag);
  }
}
