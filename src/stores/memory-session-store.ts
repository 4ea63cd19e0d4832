import { timingSafeEqual } from 'node:crypto';
import type { SessionRef, UserRef } from '../core/session-token.js';
import type { MemoryStoreOptions } from '../core/store-options.js';
import { SessionDataTooLargeError } from '../core/errors.js';
import type { SessionLocks } from '../core/session-locks.js';
import { MemoryLockTable } from './memory-session-locks.js';
import {
  DEFAULT_CREATE_OPTIONS,
  exceedsSessionDataLimits,
  MAX_LISTED_SESSIONS,
  measureSessionData,
  REMEMBERED_REFRESH_TOKENS,
  SESSION_DATA_LIMITS,
  type ClosableSessionStore,
  type RefreshGrace,
  type CreateOptions,
  type CreateResult,
  type RefreshRotation,
  type RefreshState,
  type SessionPatch,
  type SessionRecord,
  type TouchPolicy,
} from '../core/session-store.js';

export type MemorySessionStoreOptions = MemoryStoreOptions;

interface Entry {
  record: SessionRecord;
  expiresAt: number;
  /** Digests of refresh tokens this session has consumed, newest last. */
  consumedRefresh: string[];
  /** The last rotation, while its grace window lasts (rotateRefreshToken with `grace`). */
  replayable?: { digest: string; until: number; nextDigest: string; sealedNext: string };
}

/**
 * The zero-configuration store: sessions in this process's memory. For development and tests;
 * it forgets everything on restart and is not shared between instances, so production should
 * use RedisSessionStore. Bounded: each user by CreateOptions.sessionsPerUser, the whole store by
 * maxSessions (least recently used first), so one account can displace at most its own bound of
 * other sessions.
 */
export class MemorySessionStore implements ClosableSessionStore, SessionLocks {
  private readonly sessions = new Map<string, Entry>();
  /** Keys of anonymous sessions, in order of use: a full store drops these first. */
  private readonly anonymous = new Set<string>();
  /** userId → (handle → session key): the per-user index. */
  private readonly users = new Map<string, Map<string, string>>();
  private readonly maxSessions: number;
  private readonly locks = new MemoryLockTable();
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemorySessionStoreOptions = {}) {
    this.maxSessions = options.maxSessions ?? 10_000;
    this.sweeper = setInterval(() => this.sweep(Date.now()), options.sweepIntervalMs ?? 60_000);
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Always answers: the sessions are in this process. */
  async ping(): Promise<void> {}

  async read(ref: SessionRef, touch: TouchPolicy): Promise<SessionRecord | null> {
    const key = keyOf(ref);
    const entry = this.live(key, touch.now);
    if (!entry) return null;
    if (touch.now >= entry.record.absoluteExpiresAt) {
      this.remove(key);
      return null;
    }
    // Judged before the slide below moves lastSeenAt, or an idle cookie would pass its own check.
    if (!passesIdleRule(entry.record, touch)) return null;
    if (touch.now - entry.record.lastSeenAt >= touch.touchIntervalMs) this.slide(entry, touch);
    this.markUsed(key, entry);
    return copy(entry.record);
  }

  async rotateRefreshToken(
    ref: SessionRef,
    presentedDigest: string,
    next: RefreshState,
    touch: TouchPolicy,
    grace?: RefreshGrace,
  ): Promise<RefreshRotation> {
    const key = keyOf(ref);
    const entry = this.live(key, touch.now);
    const current = entry?.record.refresh;
    if (!entry || !current || touch.now >= entry.record.absoluteExpiresAt) return { outcome: 'invalid' };
    if (!sameDigest(current.digest, presentedDigest)) {
      const replay = entry.replayable;
      if (replay && touch.now < replay.until && replay.nextDigest === current.digest && sameDigest(replay.digest, presentedDigest)) {
        return { outcome: 'replayed', record: copy(entry.record), sealedNext: replay.sealedNext };
      }
      if (!entry.consumedRefresh.includes(presentedDigest)) return { outcome: 'invalid' };
      this.remove(key);
      return { outcome: 'reused' };
    }
    if (current.expiresAt <= touch.now) return { outcome: 'invalid' };
    entry.consumedRefresh = [...entry.consumedRefresh, presentedDigest].slice(-REMEMBERED_REFRESH_TOKENS);
    entry.record.refresh = { ...next };
    entry.replayable =
      grace && grace.windowMs > 0
        ? { digest: presentedDigest, until: touch.now + grace.windowMs, nextDigest: next.digest, sealedNext: grace.sealedNext }
        : undefined;
    this.slide(entry, touch);
    this.markUsed(key, entry);
    return { outcome: 'rotated', record: copy(entry.record) };
  }

  async destroyByRefreshToken(ref: SessionRef, presentedDigest: string): Promise<SessionRecord | null> {
    const key = keyOf(ref);
    const entry = this.live(key, Date.now());
    const current = entry?.record.refresh?.digest;
    if (!entry || current === undefined) return null;
    const consumed = entry.consumedRefresh.some((digest) => sameDigest(digest, presentedDigest));
    if (!sameDigest(current, presentedDigest) && !consumed) return null;
    this.remove(key);
    return copy(entry.record);
  }

  async create(ref: SessionRef, record: SessionRecord, ttlMs: number, options: CreateOptions = DEFAULT_CREATE_OPTIONS): Promise<CreateResult> {
    if (exceedsSessionDataLimits(measureSessionData(record.data))) throw new SessionDataTooLargeError(SESSION_DATA_LIMITS);
    const key = keyOf(ref);
    const now = Date.now();
    let evicted: string[] = [];
    // The user's own bound first, so one account displaces others only while under it. Nothing
    // awaits between here and the write, so concurrent creates cannot pass the bound together.
    if (record.userId !== null) {
      const replaced = options.replaces && this.live(keyOf(options.replaces), now);
      if (replaced && replaced.record.userId === record.userId) this.remove(keyOf(options.replaces!));
      const { limit, onLimit } = options.sessionsPerUser;
      if (onLimit === 'refuse' && this.pruneIndexOf(record.userId, now) >= limit) return { outcome: 'refused' };
      evicted = this.evictOldestOfUser(record.userId, limit - 1, now);
    }
    this.remove(key);
    if (this.sessions.size >= this.maxSessions) this.makeRoom();
    const expiresAt = Math.min(now + ttlMs, record.absoluteExpiresAt);
    this.sessions.set(key, { record: copy(record), expiresAt, consumedRefresh: [] });
    if (record.userId === null) this.anonymous.add(key);
    if (record.userId !== null) this.indexOf(record.userId, true).set(record.handle, key);
    return { outcome: 'created', evicted };
  }

  async update(ref: SessionRef, patch: SessionPatch): Promise<boolean> {
    const entry = this.live(keyOf(ref), Date.now());
    if (!entry) return false;
    const data = { ...entry.record.data };
    for (const [name, value] of Object.entries(patch.data ?? {})) {
      if (value === null) delete data[name];
      else data[name] = value;
    }
    // Checked on the data as it is now, in the same synchronous step as the write.
    if (exceedsSessionDataLimits(measureSessionData(data))) throw new SessionDataTooLargeError(SESSION_DATA_LIMITS);
    entry.record.data = data;
    if (patch.user !== undefined) entry.record.user = patch.user;
    if (patch.refresh !== undefined) entry.record.refresh = { ...patch.refresh };
    if (patch.passwordProof !== undefined) entry.record.passwordProof = { ...patch.passwordProof };
    return true;
  }

  async rename(from: SessionRef, to: SessionRef): Promise<boolean> {
    const fromKey = keyOf(from);
    const entry = this.live(fromKey, Date.now());
    if (!entry) return false;
    const toKey = keyOf(to);
    this.sessions.delete(fromKey);
    this.sessions.set(toKey, entry);
    if (this.anonymous.delete(fromKey)) this.anonymous.add(toKey);
    if (entry.record.userId !== null) this.indexOf(entry.record.userId, true).set(entry.record.handle, toKey);
    return true;
  }

  async destroy(ref: SessionRef): Promise<void> {
    this.remove(keyOf(ref));
  }

  async listByUser(user: UserRef): Promise<SessionRecord[]> {
    const now = Date.now();
    const records: SessionRecord[] = [];
    // The index is in creation order: the newest are at its end.
    for (const key of [...(this.indexOf(user.id, false)?.values() ?? [])].reverse()) {
      if (!underTag(key, user)) continue;
      const entry = this.live(key, now);
      if (entry) records.push(copy(entry.record));
      if (records.length === MAX_LISTED_SESSIONS) break;
    }
    return records;
  }

  async destroyByHandle(user: UserRef, handle: string): Promise<boolean> {
    const key = this.indexOf(user.id, false)?.get(handle);
    if (key === undefined || !underTag(key, user) || !this.live(key, Date.now())) return false;
    this.remove(key);
    return true;
  }

  async destroyByUser(user: UserRef, keepHandle?: string): Promise<number> {
    const now = Date.now();
    let destroyed = 0;
    for (const [handle, key] of [...(this.indexOf(user.id, false)?.entries() ?? [])]) {
      if (handle === keepHandle || !underTag(key, user)) continue;
      if (this.live(key, now)) destroyed++;
      this.remove(key);
    }
    return destroyed;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  async acquireLock(ref: SessionRef, name: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.locks.acquire(lockKeyOf(ref, name), owner, leaseMs, Date.now());
  }

  async renewLock(ref: SessionRef, name: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.locks.renew(lockKeyOf(ref, name), owner, leaseMs, Date.now());
  }

  async releaseLock(ref: SessionRef, name: string, owner: string): Promise<void> {
    this.locks.release(lockKeyOf(ref, name), owner);
  }

  /** Slides the idle expiry: never shorter than it was, never past the absolute deadline. */
  private slide(entry: Entry, { now, idleTimeoutMs, cookieIdleTimeoutMs }: TouchPolicy): void {
    // Token use is the cookie's activity only while the cookie lives (TouchPolicy.cookieIdleTimeoutMs).
    if (cookieIdleTimeoutMs === undefined || now < entry.record.lastSeenAt + cookieIdleTimeoutMs) entry.record.lastSeenAt = now;
    entry.expiresAt = Math.max(entry.expiresAt, Math.min(now + idleTimeoutMs, entry.record.absoluteExpiresAt));
  }

  /** The entry if it exists and has not expired; an expired one is removed on the way. */
  private live(key: string, now: number): Entry | undefined {
    const entry = this.sessions.get(key);
    if (entry && entry.expiresAt <= now) {
      this.remove(key);
      return undefined;
    }
    return entry;
  }

  private remove(key: string): void {
    const entry = this.sessions.get(key);
    if (!entry) return;
    this.sessions.delete(key);
    this.anonymous.delete(key);
    const userId = entry.record.userId;
    if (userId === null) return;
    const index = this.indexOf(userId, false);
    if (index?.get(entry.record.handle) === key) index.delete(entry.record.handle);
    if (index?.size === 0) this.users.delete(userId);
  }

  private indexOf(userId: string, create: true): Map<string, string>;
  private indexOf(userId: string, create: false): Map<string, string> | undefined;
  private indexOf(userId: string, create: boolean): Map<string, string> | undefined {
    let index = this.users.get(userId);
    if (!index && create) {
      index = new Map();
      this.users.set(userId, index);
    }
    return index;
  }

  private sweep(now: number): void {
    for (const key of [...this.sessions.keys()]) this.live(key, now);
    this.locks.sweep(now);
  }

  /**
   * Sweeps, and if still full drops the least recently used anonymous session, or, when there is
   * none, the least recently used of all: `sessions` and `anonymous` are kept in order of use
   * (markUsed), so those are their first entries. Anonymous sessions cost nothing to create (a
   * public route that stores data), so a flood of them must not log users out.
   */
  private makeRoom(): void {
    this.sweep(Date.now());
    while (this.sessions.size >= this.maxSessions) {
      const leastRecentlyUsed = this.anonymous.values().next().value ?? this.sessions.keys().next().value;
      if (leastRecentlyUsed === undefined) return;
      this.remove(leastRecentlyUsed);
    }
  }

  /** Moves a session to the most recently used end of `sessions` (Map keeps insertion order). */
  private markUsed(key: string, entry: Entry): void {
    this.sessions.delete(key);
    this.sessions.set(key, entry);
    if (this.anonymous.delete(key)) this.anonymous.add(key);
  }

  /** Drops index entries of sessions that are gone; how many live sessions the user has. */
  private pruneIndexOf(userId: string, now: number): number {
    const index = this.indexOf(userId, false);
    if (!index) return 0;
    for (const [handle, key] of [...index]) if (!this.live(key, now)) index.delete(handle);
    return index.size;
  }

  /** Destroys a user's oldest live sessions (the index is in creation order) until `keep` are left; their handles. */
  private evictOldestOfUser(userId: string, keep: number, now: number): string[] {
    const evicted: string[] = [];
    this.pruneIndexOf(userId, now);
    const index = this.indexOf(userId, false);
    while (index && index.size > Math.max(0, keep)) {
      const [handle, key] = index.entries().next().value!;
      index.delete(handle);
      this.remove(key);
      evicted.push(handle);
    }
    return evicted;
  }
}

/** The credential's idle rule (see IdleRule), on the record as stored before this read. */
function passesIdleRule(record: SessionRecord, touch: TouchPolicy): boolean {
  if (touch.idleRule === 'refresh-token') return record.refresh != null && touch.now < record.refresh.expiresAt;
  return touch.now < record.lastSeenAt + touch.idleTimeoutMs;
}

function keyOf(ref: SessionRef): string {
  return `${ref.tag}:${ref.digest}`;
}

function lockKeyOf(ref: SessionRef, name: string): string {
  return `${keyOf(ref)}:${name}`;
}

/** Whether a session key lives under the user's slot tag: user operations see one tag at a time, as in Redis. */
function underTag(key: string, user: UserRef): boolean {
  return key.startsWith(`${user.tag}:`);
}

function copy(record: SessionRecord): SessionRecord {
  return { ...record, data: { ...record.data }, refresh: record.refresh && { ...record.refresh } };
}

/** Constant-time comparison of two digests: the time taken says nothing about how much of a guess matched. */
function sameDigest(stored: string, presented: string): boolean {
  const a = Buffer.from(stored);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
