import type { Cluster, Redis } from 'ioredis';
import { SessionConfigurationError, SessionDataTooLargeError } from '../../core/errors.js';
import { randomToken, type SessionRef, type UserRef } from '../../core/session-token.js';
import type { RedisStoreOptions } from '../../core/store-options.js';
import { closeOwnedClient, connect, warnUnlessNoEviction } from './redis-connection.js';
import { boundedOperation, DEFAULT_STORE_OPERATION_TIMEOUT_MS } from '../../core/bounded-operation.js';
import { keyDigest, RedisKeys } from './redis-keys.js';
import { BatchedWrites } from './batched-writes.js';
import { dataField, fieldsToRecord, MEASURED_DATA_LIMITS, passwordProofFields, recordToFields } from './redis-record.js';
import {
  ALL_SCRIPTS,
  CREATE,
  DESTROY,
  FIND_BY_HANDLE,
  PATCH,
  READ_AND_TOUCH,
  repliedFields,
  READ_MANY,
  RENAME,
  REVOKE_EPOCH,
  touchArguments,
  type RedisScript,
} from './redis-scripts.js';
import { DESTROY_BY_REFRESH, REFRESH_SCRIPTS, ROTATE_REFRESH } from './refresh-scripts.js';
import { EPOCH_TTL_WITHOUT_INDEX_MS } from './redis-user-scripts.js';
import { LOCK_SCRIPTS, RELEASE_LOCK, RENEW_LOCK } from './redis-lock-scripts.js';
import type { SessionLocks } from '../../core/session-locks.js';
import { assertNearCacheSupported, NearCachedSessions, resolveNearCache, type NearCacheStats } from './near-cached-sessions.js';
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
} from '../../core/session-store.js';

export type RedisSessionStoreOptions = RedisStoreOptions;

/**
 * Hands the store's start-up warnings (a Redis that may evict keys) to the app's logger; by
 * default they go to process.emitWarning.
 */
export type StoreWarningListener = (message: string) => void;

/** How many index entries one call reads or one destroy script handles: bounded work per call. */
const INDEX_PAGE_SIZE = 100;
/** Far more than the per-user bound lets an index hold; only stops a loop that cannot end. */
const MAX_INDEX_PAGES = 100;
/**
 * A user's epoch is random, never a counter: a lost epoch key restarted at 0 could revive
 * sessions. 48 bits: it is compared, never guessed (nobody writes it but the store).
 */
const EPOCH_BYTES = 6;

type ScriptRunner = (...keysAndArgs: Array<string | number>) => Promise<unknown>;

/**
 * Sessions in Redis or Redis Cluster, through ioredis. One authenticated request costs one round
 * trip (read and idle-slide in one script); writes send only changed fields; a user's sessions
 * and their index share a hash tag so every script stays in one cluster slot.
 */
export class RedisSessionStore implements ClosableSessionStore, SessionLocks {
  readonly client: Redis | Cluster;
  private readonly ownsClient!: boolean;
  readonly keyPrefix: string;
  private readonly keys: RedisKeys;
  private readonly operationTimeoutMs: number;
  /** Reads through process memory (`nearCache`); undefined when off. */
  private readonly near: NearCachedSessions | undefined;
  /** Null with `batchWrites: false`. */
  private readonly writes: BatchedWrites | null;

  constructor(options: RedisSessionStoreOptions, collaborators: { onWarning?: StoreWarningListener } = {}) {
    this.keyPrefix = options.keyPrefix ?? 'sess:';
    if (/[{}]/.test(this.keyPrefix)) {
      throw new SessionConfigurationError(
        'store.keyPrefix',
        `contains a brace (${JSON.stringify(this.keyPrefix)})`,
        'Remove { and }: the store places its own Redis Cluster hash tag after the prefix.',
      );
    }
    this.keys = new RedisKeys(this.keyPrefix);
    this.operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_STORE_OPERATION_TIMEOUT_MS;
    const nearCache = resolveNearCache(options.nearCache);
    ({ client: this.client, ownsClient: this.ownsClient } = connect(options));
    if (options.batchWrites !== undefined && typeof options.batchWrites !== 'boolean') {
      this.client.disconnect();
      throw new SessionConfigurationError('store.batchWrites', `is ${JSON.stringify(options.batchWrites)}`, 'Use true or false, or leave it out (default true).');
    }
    this.writes = options.batchWrites === false ? null : new BatchedWrites(this.client);
    if (nearCache) {
      try {
        assertNearCacheSupported(this.client);
      } catch (error) {
        if (this.ownsClient) this.client.disconnect();
        throw error;
      }
    }
    for (const script of [...ALL_SCRIPTS, ...REFRESH_SCRIPTS, ...LOCK_SCRIPTS]) {
      this.client.defineCommand(script.name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    }
    const onWarning = collaborators.onWarning ?? ((message: string) => process.emitWarning(message, 'SessionStoreWarning'));
    this.near =
      nearCache && new NearCachedSessions(this.client as Redis, this.keyPrefix, nearCache, this.operationTimeoutMs, (script, args) => this.run('read', script, args), onWarning);
    void warnUnlessNoEviction(this.client, this.operationTimeoutMs, onWarning);
  }

  async read(ref: SessionRef, touch: TouchPolicy): Promise<SessionRecord | null> {
    if (this.near) return this.near.read(this.keys.session(ref), this.keys.epoch(ref.tag), ref.tag, touch);
    const flat = repliedFields(await this.run('read', READ_AND_TOUCH, [this.keys.session(ref), this.keys.epoch(ref.tag), ...touchArguments(touch)]));
    return flat ? fieldsToRecord(flat) : null;
  }

  async create(ref: SessionRef, record: SessionRecord, ttlMs: number, options: CreateOptions = DEFAULT_CREATE_OPTIONS): Promise<CreateResult> {
    if (exceedsSessionDataLimits(measureSessionData(record.data))) throw new SessionDataTooLargeError(SESSION_DATA_LIMITS);
    const member = record.userId === null ? '' : keyDigest(ref);
    // Only a session under the same slot tag can be in this index (and in this script's slot).
    const replaces = options.replaces?.tag === ref.tag ? keyDigest(options.replaces) : '';
    const [outcome, evicted] = (await this.changing('create', ref.tag, null, CREATE, [
      this.keys.session(ref),
      this.keys.index(ref.tag),
      this.keys.epoch(ref.tag),
      ttlMs,
      Date.now(),
      member,
      record.absoluteExpiresAt,
      options.sessionsPerUser.limit,
      this.keys.sessionPrefix(ref.tag),
      options.sessionsPerUser.onLimit,
      replaces,
      record.userId ?? '',
      ...recordToFields(record),
    ])) as [string, string[] | undefined];
    return outcome === 'refused' ? { outcome } : { outcome: 'created', evicted: evicted ?? [] };
  }

  async update(ref: SessionRef, patch: SessionPatch): Promise<boolean> {
    const set: string[] = [];
    const unset: string[] = [];
    for (const [name, value] of Object.entries(patch.data ?? {})) {
      if (value === null) unset.push(dataField(name));
      else set.push(dataField(name), value);
    }
    if (patch.user !== undefined) {
      set.push('j', patch.user);
      unset.push('k');
    }
    if (patch.refresh !== undefined) set.push('rt', patch.refresh.digest, 'rx', String(patch.refresh.expiresAt));
    if (patch.passwordProof !== undefined) {
      set.push(...passwordProofFields(patch.passwordProof));
      if (patch.passwordProof.username === null) unset.push('n');
    }
    const { maxKeys, maxTotalBytes } = SESSION_DATA_LIMITS;
    const updated = await this.changing('update', ref.tag, this.keys.session(ref), PATCH, [
      this.keys.session(ref),
      maxKeys,
      maxTotalBytes,
      set.length / 2,
      ...set,
      ...unset,
      MEASURED_DATA_LIMITS.bytes,
      MEASURED_DATA_LIMITS.keys,
    ]);
    if (updated === -1) throw new SessionDataTooLargeError(SESSION_DATA_LIMITS);
    return updated === 1;
  }

  async rename(from: SessionRef, to: SessionRef): Promise<boolean> {
    const renamed = await this.changing('rename', from.tag, this.keys.session(from), RENAME, [
      this.keys.session(from),
      this.keys.session(to),
      this.keys.index(from.tag),
      this.keys.epoch(from.tag),
      keyDigest(from),
      keyDigest(to),
      Date.now(),
    ]);
    return renamed === 1;
  }

  async rotateRefreshToken(
    ref: SessionRef,
    presentedDigest: string,
    next: RefreshState,
    touch: TouchPolicy,
    grace?: RefreshGrace,
  ): Promise<RefreshRotation> {
    const [outcome, flat, sealedNext] = (await this.changing('refresh', ref.tag, this.keys.session(ref), ROTATE_REFRESH, [
      this.keys.session(ref),
      this.keys.index(ref.tag),
      this.keys.epoch(ref.tag),
      presentedDigest,
      next.digest,
      next.expiresAt,
      touch.now,
      touch.idleTimeoutMs,
      keyDigest(ref),
      REMEMBERED_REFRESH_TOKENS,
      grace?.windowMs ?? 0,
      grace?.sealedNext ?? '',
      touch.cookieIdleTimeoutMs ?? '',
    ])) as [string, string[] | undefined, string | undefined];
    if (outcome === 'reused') return { outcome };
    const record = flat ? fieldsToRecord(flat) : null;
    if (record !== null && outcome === 'rotated') return { outcome, record };
    if (record !== null && outcome === 'replayed' && sealedNext) return { outcome, record, sealedNext };
    return { outcome: 'invalid' };
  }

  async destroyByRefreshToken(ref: SessionRef, presentedDigest: string): Promise<SessionRecord | null> {
    const flat = (await this.changing('logout', ref.tag, this.keys.session(ref), DESTROY_BY_REFRESH, [
      this.keys.session(ref),
      this.keys.index(ref.tag),
      presentedDigest,
      keyDigest(ref),
    ])) as string[] | null;
    return flat ? fieldsToRecord(flat) : null;
  }

  async destroy(ref: SessionRef): Promise<void> {
    await this.changing('destroy', ref.tag, this.keys.session(ref), DESTROY, [2, this.keys.index(ref.tag), this.keys.session(ref), keyDigest(ref), '']);
  }

  async listByUser(user: UserRef): Promise<SessionRecord[]> {
    // Highest deadline first: the most recently created.
    const { indexKey, entries } = await this.readIndex(user, { from: 0, count: MAX_LISTED_SESSIONS, newestFirst: true });
    if (entries.length === 0) return [];
    const replies = (await this.run('list', READ_MANY, [
      entries.length + 2,
      indexKey,
      this.keys.epoch(user.tag),
      ...entries.map((entry) => entry.sessionKey),
      ...entries.map((entry) => entry.member),
    ])) as string[][];
    return replies
      .map((flat) => fieldsToRecord(flat))
      .filter((record): record is SessionRecord => record !== null && record.userId === user.id);
  }

  async destroyByHandle(user: UserRef, handle: string): Promise<boolean> {
    const found = await this.findInIndex(user, handle);
    return found !== null && (await this.destroyEntries(user, this.keys.index(user.tag), [found])) === 1;
  }

  async destroyByUser(user: UserRef, keepHandle?: string): Promise<number> {
    // First, in one step, every session of the user made until now is revoked, named by the
    // index or not (an evicted index key, a failover that lost a write). A kept session the
    // index has lost cannot be told apart and goes too.
    const kept = keepHandle === undefined ? null : await this.findInIndex(user, keepHandle);
    const keptKey = kept ? [kept.sessionKey] : [];
    const revoked = (await this.changing('revoke', user.tag, null, REVOKE_EPOCH, [
      2 + keptKey.length,
      this.keys.epoch(user.tag),
      this.keys.index(user.tag),
      ...keptKey,
      randomToken(EPOCH_BYTES),
      this.keys.sessionPrefix(user.tag),
      Date.now(),
      EPOCH_TTL_WITHOUT_INDEX_MS,
    ])) as number;
    // Then what the index names is deleted, one page per script, reading the index again each time: what a batch destroyed has left
    // it, and a session rotated meanwhile shows up under its new digest in a later page.
    let destroyed = 0;
    let previous = '';
    for (let batch = 0; batch < MAX_INDEX_PAGES; batch++) {
      const { indexKey, entries } = await this.readIndex(user, { from: 0, count: INDEX_PAGE_SIZE + 1 });
      const doomed = entries.filter((entry) => entry.member !== kept?.member).slice(0, INDEX_PAGE_SIZE);
      const members = doomed.map((entry) => entry.member).join(' ');
      // Nothing left, or nothing the last batch could remove (entries of another user's sessions).
      if (doomed.length === 0 || members === previous) break;
      previous = members;
      destroyed += await this.destroyEntries(user, indexKey, doomed);
    }
    // Counted at the epoch swap: reads racing with this call delete revoked sessions themselves.
    return revoked >= 0 ? revoked : destroyed;
  }

  /** One PING, bounded by operationTimeoutMs (health checks). */
  async ping(): Promise<void> {
    await this.guard('ping', this.client.ping());
  }

  async close(): Promise<void> {
    await this.near?.close();
    if (this.ownsClient) await closeOwnedClient(this.client);
  }

  /** What the near cache has done; undefined when `nearCache` is off. */
  nearCacheStats(): NearCacheStats | undefined {
    return this.near?.stats();
  }

  async acquireLock(ref: SessionRef, name: string, owner: string, leaseMs: number): Promise<boolean> {
    return (await this.guard('lock', this.client.set(this.keys.lock(ref, name), owner, 'PX', leaseMs, 'NX'))) === 'OK';
  }

  async renewLock(ref: SessionRef, name: string, owner: string, leaseMs: number): Promise<boolean> {
    return (await this.run('lock', RENEW_LOCK, [this.keys.lock(ref, name), owner, leaseMs])) === 1;
  }

  async releaseLock(ref: SessionRef, name: string, owner: string): Promise<void> {
    await this.run('unlock', RELEASE_LOCK, [this.keys.lock(ref, name), owner]);
  }

  private destroyEntries(user: UserRef, indexKey: string, entries: IndexEntry[]): Promise<number> {
    return this.changing('destroy', user.tag, null, DESTROY, [
      entries.length + 1,
      indexKey,
      ...entries.map((entry) => entry.sessionKey),
      ...entries.map((entry) => entry.member),
      user.id,
    ]) as Promise<number>;
  }

  /** The index entry of the session with `handle`, looked for page by page so an index of any size costs bounded work per call. */
  private async findInIndex(user: UserRef, handle: string): Promise<IndexEntry | null> {
    const prefix = this.keys.sessionPrefix(user.tag);
    for (let from = 0; from < MAX_INDEX_PAGES * INDEX_PAGE_SIZE; from += INDEX_PAGE_SIZE) {
      const member = (await this.run('list', FIND_BY_HANDLE, [this.keys.index(user.tag), prefix, handle, from, INDEX_PAGE_SIZE])) as string | null;
      if (member === null) return null;
      if (member !== '') return { member, sessionKey: prefix + member };
    }
    return null;
  }

  /**
   * One page of the user's index, oldest first unless `newestFirst`, as parsed entries; every key
   * in them shares the user's slot tag.
   */
  private async readIndex(
    { tag }: UserRef,
    page: { from: number; count: number; newestFirst?: boolean },
  ): Promise<{ indexKey: string; entries: IndexEntry[] }> {
    const indexKey = this.keys.index(tag);
    const to = page.from + page.count - 1;
    const reading = page.newestFirst ? this.client.zrevrange(indexKey, page.from, to) : this.client.zrange(indexKey, page.from, to);
    const members = (await this.guard('list', reading)) as string[];
    return { indexKey, entries: members.map((member) => ({ member, sessionKey: this.keys.sessionOf(tag, member) })) };
  }

  /**
   * A script that changes a session (`key`) or, with `key` null, any session of the tag: the near
   * cache evicts it before and after, so this process never serves what it has just changed
   * (other processes evict on the invalidation).
   */
  private async changing(operation: string, tag: string, key: string | null, script: RedisScript, keysAndArgs: Array<string | number>): Promise<unknown> {
    this.near?.evict(tag, key);
    try {
      return await this.run(operation, script, keysAndArgs);
    } finally {
      this.near?.evict(tag, key);
    }
  }

  private run(operation: string, script: RedisScript, keysAndArgs: Array<string | number>): Promise<unknown> {
    this.writes?.hold();
    const runner = (this.client as unknown as Record<string, ScriptRunner>)[script.name];
    return this.guard(operation, runner.apply(this.client, keysAndArgs));
  }

  private guard<T>(operation: string, pending: Promise<T>): Promise<T> {
    return boundedOperation(operation, pending, this.operationTimeoutMs);
  }
}

/** One member of a user's index, the digest in a session key, with the session key it points to. */
interface IndexEntry {
  member: string;
  sessionKey: string;
}
