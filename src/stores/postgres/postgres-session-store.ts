import { SessionDataTooLargeError } from '../../core/errors.js';
import { boundedOperation, DEFAULT_STORE_OPERATION_TIMEOUT_MS } from '../../core/bounded-operation.js';
import type { NonceStore } from '../../core/nonce-store.js';
import type { SessionLocks } from '../../core/session-locks.js';
import type { SessionRef, UserRef } from '../../core/session-token.js';
import type { PostgresPool, PostgresStoreOptions } from '../../core/store-options.js';
import {
  DEFAULT_CREATE_OPTIONS,
  exceedsSessionDataLimits,
  MAX_LISTED_SESSIONS,
  measureSessionData,
  SESSION_DATA_LIMITS,
  type ClosableSessionStore,
  type CreateOptions,
  type CreateResult,
  type RefreshGrace,
  type RefreshRotation,
  type RefreshState,
  type SessionPatch,
  type SessionRecord,
  type TouchPolicy,
} from '../../core/session-store.js';
import { connectPool, PostgresQueries } from './postgres-connection.js';
import { PostgresLocksAndNonces } from './postgres-locks.js';
import { assertTablesExist, migrate } from './postgres-migration.js';
import { recordToValues, rowToRecord } from './postgres-record.js';
import { PostgresRefreshTokens } from './postgres-refresh.js';
import { sessionStatements } from './postgres-statements.js';
import { PostgresSweeper } from './postgres-sweeper.js';
import { postgresTables, type PostgresTables } from './postgres-tables.js';

export type PostgresSessionStoreOptions = PostgresStoreOptions;

/** How many sessions one revoke-all statement deletes: bounded work per statement. */
const REVOKE_BATCH_SIZE = 500;
/** Far more than the per-user bound lets a user hold; only stops a loop that cannot end. */
const MAX_REVOKE_BATCHES = 100;
/** An update that failed its caps is retried when a re-check finds it fits after all (concurrent deletes). */
const PATCH_ATTEMPTS = 3;

/**
 * Sessions in PostgreSQL through node-postgres (`pg`, an optional peer). One authenticated request
 * costs one statement (read and sliding touch together); writes send only changed keys; the
 * per-user bound, revocation, rename and refresh rotation are each one statement or one short
 * transaction. Build it with `PostgresSessionStore.connect(options)`, which makes or takes the
 * pool, creates or checks the tables, and starts the sweeper.
 */
export class PostgresSessionStore implements ClosableSessionStore, SessionLocks, NonceStore {
  readonly tables: PostgresTables;
  readonly operationTimeoutMs: number;
  private readonly queries: PostgresQueries;
  private readonly statements: ReturnType<typeof sessionStatements>;
  private readonly refresh: PostgresRefreshTokens;
  private readonly locks: PostgresLocksAndNonces;
  private sweeper: PostgresSweeper | null = null;

  /** Makes (or takes) the pool, runs the migration with `migrate: true` or checks the tables, and starts the sweeper. */
  static async connect(options: PostgresSessionStoreOptions): Promise<PostgresSessionStore> {
    const tables = postgresTables(options.schema, options.tableName);
    const operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_STORE_OPERATION_TIMEOUT_MS;
    const { pool, ownsPool } = await connectPool(options, operationTimeoutMs);
    const store = new PostgresSessionStore(pool, { ...options, ownsPool });
    try {
      if (options.migrate) await migrate(store.queries, tables);
      else await assertTablesExist(store.queries, tables);
    } catch (error) {
      await store.close();
      throw error;
    }
    store.sweeper = new PostgresSweeper(pool, tables, options.sweepIntervalMs ?? 60_000);
    return store;
  }

  private constructor(
    readonly pool: PostgresPool,
    private readonly options: PostgresSessionStoreOptions & { ownsPool: boolean },
  ) {
    this.tables = postgresTables(options.schema, options.tableName);
    this.operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_STORE_OPERATION_TIMEOUT_MS;
    this.queries = new PostgresQueries(pool, this.operationTimeoutMs);
    this.statements = sessionStatements(this.tables);
    this.refresh = new PostgresRefreshTokens(this.queries, this.tables);
    this.locks = new PostgresLocksAndNonces(this.queries, this.tables);
  }

  async read(ref: SessionRef, touch: TouchPolicy): Promise<SessionRecord | null> {
    const { rows } = await this.queries.query('read', this.statements.readAndTouch, [
      ref.digest,
      ref.tag,
      touch.now,
      touch.idleTimeoutMs,
      touch.touchIntervalMs,
      touch.idleRule ?? 'last-seen',
      touch.cookieIdleTimeoutMs ?? null,
    ]);
    return rows.length === 1 ? rowToRecord(rows[0]) : null;
  }

  async create(ref: SessionRef, record: SessionRecord, ttlMs: number, options: CreateOptions = DEFAULT_CREATE_OPTIONS): Promise<CreateResult> {
    if (exceedsSessionDataLimits(measureSessionData(record.data))) throw new SessionDataTooLargeError(SESSION_DATA_LIMITS);
    const now = Date.now();
    const row = [ref.digest, ref.tag, ...recordToValues(record, Math.min(now + ttlMs, record.absoluteExpiresAt))];
    const userId = record.userId;
    if (userId === null) {
      await this.queries.query('create', this.statements.insert, row);
      return { outcome: 'created', evicted: [] };
    }
    // The user's creates take turns (a transaction-level advisory lock on the user), so
    // concurrent logins cannot pass the bound together; other users' logins do not wait.
    return this.queries.transaction('create', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${this.tables.sessions} user ${userId}`]);
      if (options.replaces) await client.query(this.statements.destroyReplaced, [userId, options.replaces.digest, options.replaces.tag]);
      const live = (await client.query(this.statements.liveOfUser, [userId, now])).rows.filter((session) => session.digest !== ref.digest);
      const { limit, onLimit } = options.sessionsPerUser;
      if (onLimit === 'refuse' && live.length >= limit) return { outcome: 'refused' };
      await client.query(this.statements.insert, row);
      const doomed = live.slice(0, Math.max(0, live.length + 1 - limit));
      if (doomed.length === 0) return { outcome: 'created', evicted: [] };
      await client.query(this.statements.destroyDigests, [doomed.map((session) => session.digest)]);
      return { outcome: 'created', evicted: doomed.map((session) => session.handle as string) };
    });
  }

  async update(ref: SessionRef, patch: SessionPatch): Promise<boolean> {
    const deleted: string[] = [];
    const set: Record<string, string> = {};
    for (const [name, value] of Object.entries(patch.data ?? {})) {
      if (value === null) deleted.push(name);
      else set[name] = value;
    }
    const values = [
      ref.digest,
      ref.tag,
      Date.now(),
      deleted,
      JSON.stringify(set),
      patch.user ?? null,
      patch.refresh?.digest ?? null,
      patch.refresh?.expiresAt ?? null,
      patch.passwordProof?.at ?? null,
      patch.passwordProof?.username ?? null,
      SESSION_DATA_LIMITS.maxKeys,
      SESSION_DATA_LIMITS.maxTotalBytes,
    ];
    for (let attempt = 0; attempt < PATCH_ATTEMPTS; attempt++) {
      if ((await this.queries.query('update', this.statements.patch, values)).rows.length === 1) return true;
      // Nothing written: the session is gone, or the caps refused the data as it is now.
      const { rows } = await this.queries.query('update', this.statements.patchTooLarge, [...values.slice(0, 5), ...values.slice(10)]);
      if (rows.length === 0) return false;
      if (rows[0].too_large === true) throw new SessionDataTooLargeError(SESSION_DATA_LIMITS);
    }
    throw new SessionDataTooLargeError(SESSION_DATA_LIMITS);
  }

  async rename(from: SessionRef, to: SessionRef): Promise<boolean> {
    const { rows } = await this.queries.query('rename', this.statements.rename, [from.digest, to.digest, from.tag, Date.now()]);
    return rows.length === 1;
  }

  rotateRefreshToken(ref: SessionRef, presentedDigest: string, next: RefreshState, touch: TouchPolicy, grace?: RefreshGrace): Promise<RefreshRotation> {
    return this.refresh.rotateRefreshToken(ref, presentedDigest, next, touch, grace);
  }

  destroyByRefreshToken(ref: SessionRef, presentedDigest: string): Promise<SessionRecord | null> {
    return this.refresh.destroyByRefreshToken(ref, presentedDigest);
  }

  async destroy(ref: SessionRef): Promise<void> {
    await this.queries.query('destroy', this.statements.destroy, [ref.digest, ref.tag]);
  }

  async listByUser(user: UserRef): Promise<SessionRecord[]> {
    const { rows } = await this.queries.query('list', this.statements.listByUser, [user.id, user.tag, Date.now(), MAX_LISTED_SESSIONS]);
    return rows.map(rowToRecord);
  }

  async destroyByHandle(user: UserRef, handle: string): Promise<boolean> {
    const { rows } = await this.queries.query('destroy', this.statements.destroyByHandle, [user.id, user.tag, handle, Date.now()]);
    return rows.length === 1;
  }

  async destroyByUser(user: UserRef, keepHandle?: string): Promise<number> {
    const now = Date.now();
    let destroyed = 0;
    for (let batch = 0; batch < MAX_REVOKE_BATCHES; batch++) {
      const { rows } = await this.queries.query('revoke', this.statements.destroyUserBatch, [
        user.id,
        user.tag,
        keepHandle ?? null,
        now,
        REVOKE_BATCH_SIZE,
      ]);
      destroyed += rows.filter((row) => row.was_live === true).length;
      if (rows.length === 0) break;
    }
    return destroyed;
  }

  acquireLock(ref: SessionRef, name: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.locks.acquireLock(ref, name, owner, leaseMs);
  }

  renewLock(ref: SessionRef, name: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.locks.renewLock(ref, name, owner, leaseMs);
  }

  releaseLock(ref: SessionRef, name: string, owner: string): Promise<void> {
    return this.locks.releaseLock(ref, name, owner);
  }

  rememberNonce(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    return this.locks.rememberNonce(scope, nonce, ttlMs);
  }

  /** Deletes expired rows now (what the sweeper does on its interval); never rejects. */
  async sweep(): Promise<void> {
    await this.sweeper?.sweep();
  }

  /** Stops the sweeper and ends the pool if the store made it; an app's pool stays open. */
  async close(): Promise<void> {
    // A sweep stuck on a connection that no longer answers (an app's pool has no query timeout) must not hold up shutdown.
    await boundedOperation('close', this.sweeper?.stop() ?? Promise.resolve(), this.operationTimeoutMs).catch(() => undefined);
    this.sweeper = null;
    if (this.options.ownsPool) await boundedOperation('close', this.pool.end(), this.operationTimeoutMs).catch(() => undefined);
  }
}
