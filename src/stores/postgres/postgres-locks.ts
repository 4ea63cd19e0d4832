/**
 * Session locks (SessionLocks) and replay nonces (NonceStore) in their own tables. A lock is a row
 * that one INSERT ... ON CONFLICT takes when it is free or its lease has run out, so of many
 * concurrent attempts exactly one gets it. Not advisory locks: those belong to one connection,
 * while a lease outlives the request's connection and must end by itself. Leases and nonce
 * windows are judged by the database's clock, which every app instance shares.
 */
import { createHash } from 'node:crypto';
import type { SessionRef } from '../../core/session-token.js';
import type { PostgresQueries } from './postgres-connection.js';
import { DATABASE_NOW } from './postgres-statements.js';
import type { PostgresTables } from './postgres-tables.js';

export class PostgresLocksAndNonces {
  private readonly acquire: string;
  private readonly renew: string;
  private readonly release: string;
  private readonly remember: string;

  constructor(
    private readonly queries: PostgresQueries,
    tables: PostgresTables,
  ) {
    const locks = tables.locks;
    // $1 session digest, $2 name, $3 owner, $4 leaseMs.
    this.acquire = `
INSERT INTO ${locks} AS held (session_digest, name, owner, expires_at) VALUES ($1, $2, $3, ${DATABASE_NOW} + $4::bigint)
ON CONFLICT (session_digest, name) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
WHERE held.expires_at <= ${DATABASE_NOW}
RETURNING 1`;
    this.renew = `
UPDATE ${locks} SET expires_at = ${DATABASE_NOW} + $4::bigint
WHERE session_digest = $1 AND name = $2 AND owner = $3 AND expires_at > ${DATABASE_NOW}
RETURNING 1`;
    this.release = `DELETE FROM ${locks} WHERE session_digest = $1 AND name = $2 AND owner = $3`;
    // $1 key, $2 ttlMs: a nonce is new when there is no row for it or the row's window is over.
    this.remember = `
INSERT INTO ${tables.nonces} AS seen (key, expires_at) VALUES ($1, ${DATABASE_NOW} + $2::bigint)
ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE seen.expires_at <= ${DATABASE_NOW}
RETURNING 1`;
  }

  async acquireLock(ref: SessionRef, name: string, owner: string, leaseMs: number): Promise<boolean> {
    return (await this.queries.query('lock', this.acquire, [ref.digest, name, owner, Math.ceil(leaseMs)])).rows.length === 1;
  }

  async renewLock(ref: SessionRef, name: string, owner: string, leaseMs: number): Promise<boolean> {
    return (await this.queries.query('lock', this.renew, [ref.digest, name, owner, Math.ceil(leaseMs)])).rows.length === 1;
  }

  async releaseLock(ref: SessionRef, name: string, owner: string): Promise<void> {
    await this.queries.query('unlock', this.release, [ref.digest, name, owner]);
  }

  async rememberNonce(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    // Hashed, so a client cannot choose how long a key is.
    const key = `${scope}:${createHash('sha256').update(nonce).digest('base64url')}`;
    return (await this.queries.query('rememberNonce', this.remember, [key, Math.ceil(ttlMs)])).rows.length === 1;
  }
}
