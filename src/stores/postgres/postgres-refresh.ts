/**
 * Refresh token rotation and logout by refresh token over the sessions table (RFC 9700 §4.14).
 * The common case, the current token presented once, is one conditional UPDATE ... RETURNING: of
 * two concurrent rotations of one token the second finds, on the newest row version, that the
 * digest no longer matches, and updates nothing. Only what is left (a replay inside the grace
 * window, a reuse, an invalid token) takes a short transaction with the row locked.
 */
import { timingSafeEqual } from 'node:crypto';
import type { SessionRef } from '../../core/session-token.js';
import { REMEMBERED_REFRESH_TOKENS, type RefreshGrace, type RefreshRotation, type RefreshState, type TouchPolicy } from '../../core/session-store.js';
import type { PostgresQueries } from './postgres-connection.js';
import { RECORD_COLUMNS, rowToRecord } from './postgres-record.js';
import type { PostgresTables } from './postgres-tables.js';

export class PostgresRefreshTokens {
  private readonly rotate: string;
  private readonly lockForRefresh: string;
  private readonly destroyReused: string;
  private readonly destroyByToken: string;

  constructor(
    private readonly queries: PostgresQueries,
    tables: PostgresTables,
  ) {
    const t = tables.sessions;
    // $1 digest, $2 tag, $3 presented, $4 next digest, $5 next expiry, $6 now, $7 idleTimeoutMs,
    // $8 remembered tokens, $9 grace window ms (0: off), $10 sealed next, $11 cookieIdleTimeoutMs (null: none).
    this.rotate = `
UPDATE ${t} SET
  refresh_digest = $4, refresh_expires_at = $5::bigint,
  consumed_refresh = (array_append(consumed_refresh, $3::text))[GREATEST(1, cardinality(consumed_refresh) + 2 - $8::int):],
  replay_digest = CASE WHEN $9::bigint > 0 THEN $3 END,
  replay_until = CASE WHEN $9::bigint > 0 THEN $6::bigint + $9::bigint END,
  replay_next_digest = CASE WHEN $9::bigint > 0 THEN $4 END,
  replay_sealed_next = CASE WHEN $9::bigint > 0 THEN $10 END,
  last_seen_at = CASE WHEN $11::bigint IS NULL OR $6::bigint < last_seen_at + $11::bigint THEN $6::bigint ELSE last_seen_at END,
  expires_at = GREATEST(expires_at, LEAST($6::bigint + $7::bigint, absolute_expires_at))
WHERE digest = $1 AND tag = $2 AND expires_at > $6::bigint AND absolute_expires_at > $6::bigint
  AND refresh_digest = $3 AND refresh_expires_at > $6::bigint
RETURNING ${RECORD_COLUMNS}`;
    // $1 digest, $2 tag, $3 now.
    this.lockForRefresh = `
SELECT ${RECORD_COLUMNS}, consumed_refresh, replay_digest, replay_until, replay_next_digest, replay_sealed_next
FROM ${t} WHERE digest = $1 AND tag = $2 AND expires_at > $3::bigint AND absolute_expires_at > $3::bigint
FOR UPDATE`;
    this.destroyReused = `DELETE FROM ${t} WHERE digest = $1 AND tag = $2`;
    // $1 digest, $2 tag, $3 presented, $4 now. Compares and destroys in one step, never sliding anything.
    this.destroyByToken = `
DELETE FROM ${t}
WHERE digest = $1 AND tag = $2 AND (refresh_digest = $3 OR $3 = ANY(consumed_refresh))
  AND expires_at > $4::bigint AND absolute_expires_at > $4::bigint
RETURNING ${RECORD_COLUMNS}`;
  }

  async rotateRefreshToken(
    ref: SessionRef,
    presentedDigest: string,
    next: RefreshState,
    touch: TouchPolicy,
    grace?: RefreshGrace,
  ): Promise<RefreshRotation> {
    const windowMs = grace && grace.windowMs > 0 ? grace.windowMs : 0;
    const { rows } = await this.queries.query('refresh', this.rotate, [
      ref.digest,
      ref.tag,
      presentedDigest,
      next.digest,
      next.expiresAt,
      touch.now,
      touch.idleTimeoutMs,
      REMEMBERED_REFRESH_TOKENS,
      windowMs,
      windowMs > 0 ? grace!.sealedNext : null,
      touch.cookieIdleTimeoutMs ?? null,
    ]);
    if (rows.length === 1) return { outcome: 'rotated', record: rowToRecord(rows[0]) };
    return this.queries.transaction('refresh', async (client) => {
      const { rows: locked } = await client.query(this.lockForRefresh, [ref.digest, ref.tag, touch.now]);
      const row = locked[0];
      const current = row?.refresh_digest as string | null | undefined;
      if (!row || !current || sameDigest(current, presentedDigest)) return { outcome: 'invalid' };
      const replayable =
        row.replay_digest !== null &&
        touch.now < Number(row.replay_until) &&
        row.replay_next_digest === current &&
        row.replay_sealed_next !== null &&
        sameDigest(row.replay_digest as string, presentedDigest);
      if (replayable) return { outcome: 'replayed', record: rowToRecord(row), sealedNext: row.replay_sealed_next as string };
      if (!(row.consumed_refresh as string[]).some((consumed) => sameDigest(consumed, presentedDigest))) return { outcome: 'invalid' };
      await client.query(this.destroyReused, [ref.digest, ref.tag]);
      return { outcome: 'reused' };
    });
  }

  async destroyByRefreshToken(ref: SessionRef, presentedDigest: string) {
    const { rows } = await this.queries.query('logout', this.destroyByToken, [ref.digest, ref.tag, presentedDigest, Date.now()]);
    return rows.length === 1 ? rowToRecord(rows[0]) : null;
  }
}

/** Constant-time comparison of two digests: the time taken says nothing about how much of a guess matched. */
function sameDigest(stored: string, presented: string): boolean {
  const a = Buffer.from(stored);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
