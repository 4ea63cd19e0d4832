import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { SessionConfigurationError, SessionDataTooLargeError, SessionStoreUnavailableError } from '../../core/errors.js';
import { slotTagForUser, type SessionRef } from '../../core/session-token.js';
import type { RedisStoreOptions } from '../../core/store-options.js';
import { dataField, fieldsToRecord, recordToFields } from './redis-record.js';
import {
  ALL_SCRIPTS,
  CREATE,
  DESTROY,
  PATCH,
  READ_AND_TOUCH,
  READ_MANY,
  RENAME,
  ROTATE_REFRESH,
  type RedisScript,
} from './redis-scripts.js';
import {
  DEFAULT_CREATE_OPTIONS,
  exceedsSessionDataLimits,
  MAX_LISTED_SESSIONS,
  measureSessionData,
  REMEMBERED_REFRESH_TOKENS,
  SESSION_DATA_LIMITS,
  type ClosableSessionStore,
  type CreateOptions,
  type RefreshRotation,
  type RefreshState,
  type SessionPatch,
  type SessionRecord,
  type TouchPolicy,
} from '../../core/session-store.js';

export type RedisSessionStoreOptions = RedisStoreOptions;

/** How many index entries one call reads or one destroy script handles: bounded work per call. */
const INDEX_PAGE_SIZE = 100;
/** Far more than the per-user bound lets an index hold; only stops a loop that cannot end. */
const MAX_INDEX_PAGES = 100;

/** Connection defaults for clients the store makes: fail fast instead of queueing while Redis is away. */
const OWNED_CLIENT_DEFAULTS: RedisOptions = { maxRetriesPerRequest: 1 };

type ScriptRunner = (...keysAndArgs: Array<string | number>) => Promise<unknown>;

/**
 * Sessions in Redis or Redis Cluster, through ioredis. One authenticated request costs one round
 * trip (read and idle-slide in one script); writes send only changed fields; a user's sessions
 * and their index share a hash tag so every script stays in one cluster slot.
 */
export class RedisSessionStore implements ClosableSessionStore {
  readonly client: Redis | Cluster;
  private readonly ownsClient: boolean;
  readonly keyPrefix: string;
  private readonly operationTimeoutMs: number;

  constructor(options: RedisSessionStoreOptions) {
    const sources = [options.url, options.options, options.client].filter((source) => source !== undefined);
    if (sources.length !== 1) {
      throw new SessionConfigurationError(
        'store',
        `was given ${sources.length} Redis connection sources`,
        'Give exactly one of `url`, `options` or `client`.',
      );
    }
    this.keyPrefix = options.keyPrefix ?? 'sess:';
    if (/[{}]/.test(this.keyPrefix)) {
      throw new SessionConfigurationError(
        'store.keyPrefix',
        `contains a brace (${JSON.stringify(this.keyPrefix)})`,
        'Remove { and }: the store places its own Redis Cluster hash tag after the prefix.',
      );
    }
    this.operationTimeoutMs = options.operationTimeoutMs ?? 2_000;
    this.ownsClient = options.client === undefined;
    this.client =
      options.client ??
      (options.url !== undefined
        ? new Redis(options.url, OWNED_CLIENT_DEFAULTS)
        : new Redis({ ...OWNED_CLIENT_DEFAULTS, ...options.options }));
    // Without a listener ioredis reports connection errors as unhandled; the store reports them per operation instead.
    if (this.ownsClient) this.client.on('error', () => undefined);
    for (const script of ALL_SCRIPTS) {
      this.client.defineCommand(script.name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    }
  }

  async read(ref: SessionRef, touch: TouchPolicy): Promise<SessionRecord | null> {
    const flat = (await this.run('read', READ_AND_TOUCH, [
      this.sessionKey(ref),
      touch.now,
      touch.idleTimeoutMs,
      touch.touchIntervalMs,
      touch.idleRule ?? 'last-seen',
    ])) as string[] | null;
    return flat ? fieldsToRecord(flat) : null;
  }

  async create(ref: SessionRef, record: SessionRecord, ttlMs: number, options: CreateOptions = DEFAULT_CREATE_OPTIONS): Promise<void> {
    if (exceedsSessionDataLimits(measureSessionData(record.data))) throw new SessionDataTooLargeError(SESSION_DATA_LIMITS);
    const member = record.userId === null ? '' : `${record.handle}.${ref.digest}`;
    await this.run('create', CREATE, [
      this.sessionKey(ref),
      this.indexKey(ref.tag),
      ttlMs,
      Date.now(),
      member,
      record.absoluteExpiresAt,
      options.sessionsPerUser.limit,
      this.sessionKey({ tag: ref.tag, digest: '' }),
      ...recordToFields(record),
    ]);
  }

  async update(ref: SessionRef, patch: SessionPatch): Promise<boolean> {
    const set: string[] = [];
    const unset: string[] = [];
    for (const [name, value] of Object.entries(patch.data ?? {})) {
      if (value === null) unset.push(dataField(name));
      else set.push(dataField(name), value);
    }
    if (patch.user !== undefined) set.push('user', patch.user);
    if (patch.refresh !== undefined) set.push('rt', patch.refresh.digest, 'rx', String(patch.refresh.expiresAt));
    const { maxKeys, maxTotalBytes } = SESSION_DATA_LIMITS;
    const updated = await this.run('update', PATCH, [this.sessionKey(ref), maxKeys, maxTotalBytes, set.length / 2, ...set, ...unset]);
    if (updated === -1) throw new SessionDataTooLargeError(SESSION_DATA_LIMITS);
    return updated === 1;
  }

  async rename(from: SessionRef, to: SessionRef): Promise<boolean> {
    const renamed = await this.run('rename', RENAME, [
      this.sessionKey(from),
      this.sessionKey(to),
      this.indexKey(from.tag),
      from.digest,
      to.digest,
    ]);
    return renamed === 1;
  }

  async rotateRefreshToken(ref: SessionRef, presentedDigest: string, next: RefreshState, touch: TouchPolicy): Promise<RefreshRotation> {
    const [outcome, flat] = (await this.run('refresh', ROTATE_REFRESH, [
      this.sessionKey(ref),
      this.indexKey(ref.tag),
      presentedDigest,
      next.digest,
      next.expiresAt,
      touch.now,
      touch.idleTimeoutMs,
      ref.digest,
      REMEMBERED_REFRESH_TOKENS,
    ])) as [string, string[] | undefined];
    if (outcome === 'reused') return { outcome };
    const record = outcome === 'rotated' && flat ? fieldsToRecord(flat) : null;
    return record ? { outcome: 'rotated', record } : { outcome: 'invalid' };
  }

  async destroy(ref: SessionRef): Promise<void> {
    await this.run('destroy', DESTROY, [2, this.indexKey(ref.tag), this.sessionKey(ref), ref.digest, '', '']);
  }

  async listByUser(userId: string): Promise<SessionRecord[]> {
    // Highest deadline first: the most recently created.
    const { indexKey, entries } = await this.readIndex(userId, { from: 0, count: MAX_LISTED_SESSIONS, newestFirst: true });
    if (entries.length === 0) return [];
    const replies = (await this.run('list', READ_MANY, [
      entries.length + 1,
      indexKey,
      ...entries.map((entry) => entry.sessionKey),
      ...entries.map((entry) => entry.member),
    ])) as string[][];
    return replies
      .map((flat) => fieldsToRecord(flat))
      .filter((record): record is SessionRecord => record !== null && record.userId === userId);
  }

  async destroyByHandle(userId: string, handle: string): Promise<boolean> {
    // Page by page, so an index of any size costs bounded work per call.
    for (let from = 0; from < MAX_INDEX_PAGES * INDEX_PAGE_SIZE; from += INDEX_PAGE_SIZE) {
      const { indexKey, entries } = await this.readIndex(userId, { from, count: INDEX_PAGE_SIZE });
      const entry = entries.find((candidate) => candidate.handle === handle);
      if (entry) return (await this.destroyEntries(userId, indexKey, [entry])) === 1;
      if (entries.length < INDEX_PAGE_SIZE) return false;
    }
    return false;
  }

  async destroyByUser(userId: string, keepHandle?: string): Promise<number> {
    // One page per script, reading the index again each time: what a batch destroyed has left
    // it, and a session rotated meanwhile shows up under its new digest in a later page.
    let destroyed = 0;
    let previous = '';
    for (let batch = 0; batch < MAX_INDEX_PAGES; batch++) {
      const { indexKey, entries } = await this.readIndex(userId, { from: 0, count: INDEX_PAGE_SIZE + 1 });
      const doomed = entries.filter((entry) => entry.handle !== keepHandle).slice(0, INDEX_PAGE_SIZE);
      const members = doomed.map((entry) => entry.member).join(' ');
      // Nothing left, or nothing the last batch could remove (entries of another user's sessions).
      if (doomed.length === 0 || members === previous) break;
      previous = members;
      destroyed += await this.destroyEntries(userId, indexKey, doomed);
    }
    return destroyed;
  }

  async close(): Promise<void> {
    if (!this.ownsClient || this.client.status === 'end') return;
    // QUIT on a connection that is not up would leave ioredis reconnecting; drop it instead.
    if (this.client.status !== 'ready') {
      this.client.disconnect();
      return;
    }
    try {
      await this.client.quit();
    } catch {
      // Already disconnected (Redis down at shutdown): nothing left to close gracefully.
      this.client.disconnect();
    }
  }

  private destroyEntries(userId: string, indexKey: string, entries: IndexEntry[]): Promise<number> {
    return this.run('destroy', DESTROY, [
      entries.length + 1,
      indexKey,
      ...entries.map((entry) => entry.sessionKey),
      ...entries.flatMap((entry) => [entry.digest, entry.member]),
      userId,
    ]) as Promise<number>;
  }

  /**
   * One page of the user's index, oldest first unless `newestFirst`, as parsed entries; every key
   * in them shares the user's slot tag.
   */
  private async readIndex(
    userId: string,
    page: { from: number; count: number; newestFirst?: boolean },
  ): Promise<{ indexKey: string; entries: IndexEntry[] }> {
    const tag = slotTagForUser(userId);
    const indexKey = this.indexKey(tag);
    const to = page.from + page.count - 1;
    const reading = page.newestFirst ? this.client.zrevrange(indexKey, page.from, to) : this.client.zrange(indexKey, page.from, to);
    const members = (await this.guard('list', reading)) as string[];
    const entries = members.flatMap((member): IndexEntry[] => {
      const dot = member.indexOf('.');
      if (dot <= 0) return [];
      const handle = member.slice(0, dot);
      const digest = member.slice(dot + 1);
      return [{ member, handle, digest, sessionKey: this.sessionKey({ tag, digest }) }];
    });
    return { indexKey, entries };
  }

  private sessionKey(ref: SessionRef): string {
    return `${this.keyPrefix}{${ref.tag}}:s:${ref.digest}`;
  }

  private indexKey(tag: string): string {
    return `${this.keyPrefix}{${tag}}:u`;
  }

  private run(operation: string, script: RedisScript, keysAndArgs: Array<string | number>): Promise<unknown> {
    const runner = (this.client as unknown as Record<string, ScriptRunner>)[script.name];
    return this.guard(operation, runner.apply(this.client, keysAndArgs));
  }

  /** Bounds an operation by operationTimeoutMs and reports any failure as the store being unavailable. */
  private async guard<T>(operation: string, pending: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.operationTimeoutMs} ms`)),
        this.operationTimeoutMs,
      );
    });
    try {
      return await Promise.race([pending, timeout]);
    } catch (error) {
      pending.catch(() => undefined);
      throw new SessionStoreUnavailableError(operation, error);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** One member of a user's index, `<handle>.<digest>`, with the session key it points to. */
interface IndexEntry {
  member: string;
  handle: string;
  digest: string;
  sessionKey: string;
}
