/**
 * The SQL behind PostgresSessionStore, over the tables of migrations/001-sessions.ts. Every value
 * is a parameter; only the validated, quoted table names are put into the text. A session is live
 * while `now` is before both its idle deadline (expires_at) and its absolute one; dead rows are
 * never returned, written or moved, and the sweeper (postgres-sweeper.ts) deletes them.
 */
import { RECORD_COLUMNS } from './postgres-record.js';
import type { PostgresTables } from './postgres-tables.js';

/** `now` as a parameter: the app's clock, as the store contract gives it. */
const live = (now: string) => `expires_at > ${now}::bigint AND absolute_expires_at > ${now}::bigint`;

/** The database's clock in ms, for locks and nonces, whose leases every instance must judge alike. */
export const DATABASE_NOW = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

export function sessionStatements(tables: PostgresTables) {
  const t = tables.sessions;
  return {
    /**
     * $1 digest, $2 tag, $3 now, $4 idleTimeoutMs, $5 touchIntervalMs, $6 idle rule, $7 cookieIdleTimeoutMs (null: none).
     * Read and sliding touch in one statement: the UPDATE slides a session whose last slide is at
     * least touchIntervalMs old, the SELECT answers when none was due. Both judge the idle rule on
     * the row before the slide; the UPDATE re-checks everything on the newest row version.
     */
    readAndTouch: `
WITH due AS (
  SELECT digest FROM ${t}
  WHERE digest = $1 AND tag = $2 AND ${live('$3')}
    AND CASE WHEN $6::text = 'refresh-token' THEN refresh_expires_at IS NOT NULL AND $3::bigint < refresh_expires_at
             ELSE $3::bigint < last_seen_at + $4::bigint END
), touched AS (
  UPDATE ${t} SET
    last_seen_at = CASE WHEN $7::bigint IS NULL OR $3::bigint < last_seen_at + $7::bigint THEN $3::bigint ELSE last_seen_at END,
    expires_at = GREATEST(expires_at, LEAST($3::bigint + $4::bigint, absolute_expires_at))
  WHERE digest IN (SELECT digest FROM due) AND tag = $2 AND ${live('$3')}
    AND $3::bigint - last_seen_at >= $5::bigint
    -- Something to write: lastSeenAt moves, or the expiry is a whole touch interval behind (a bearer
    -- read of an idled-out cookie in hybrid mode never moves lastSeenAt, and would rewrite the row each time).
    AND ($7::bigint IS NULL OR $3::bigint < last_seen_at + $7::bigint
         OR expires_at <= LEAST($3::bigint + $4::bigint, absolute_expires_at) - $5::bigint)
    AND CASE WHEN $6::text = 'refresh-token' THEN refresh_expires_at IS NOT NULL AND $3::bigint < refresh_expires_at
             ELSE $3::bigint < last_seen_at + $4::bigint END
  RETURNING ${RECORD_COLUMNS}
)
SELECT * FROM touched
UNION ALL
SELECT ${RECORD_COLUMNS} FROM ${t} WHERE digest IN (SELECT digest FROM due) AND NOT EXISTS (SELECT 1 FROM touched)`,

    /** $1 digest, $2 tag, then the values of recordToValues. A ref created again starts over. */
    insert: `
INSERT INTO ${t} (digest, tag, handle, user_id, user_json, created_at, last_seen_at, expires_at, absolute_expires_at,
                  user_agent, ip, data, refresh_digest, refresh_expires_at, password_proof_at, password_proof_username)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, $15, $16)
ON CONFLICT (digest) DO UPDATE SET
  tag = EXCLUDED.tag, handle = EXCLUDED.handle, user_id = EXCLUDED.user_id, user_json = EXCLUDED.user_json,
  created_at = EXCLUDED.created_at, last_seen_at = EXCLUDED.last_seen_at, expires_at = EXCLUDED.expires_at,
  absolute_expires_at = EXCLUDED.absolute_expires_at, user_agent = EXCLUDED.user_agent, ip = EXCLUDED.ip,
  data = EXCLUDED.data, refresh_digest = EXCLUDED.refresh_digest, refresh_expires_at = EXCLUDED.refresh_expires_at,
  consumed_refresh = '{}', replay_digest = NULL, replay_until = NULL, replay_next_digest = NULL, replay_sealed_next = NULL,
  password_proof_at = EXCLUDED.password_proof_at, password_proof_username = EXCLUDED.password_proof_username`,

    /** $1 user id, $2 digest, $3 tag: the replaced session of a re-login, only when it is the same user's. */
    destroyReplaced: `DELETE FROM ${t} WHERE digest = $2 AND tag = $3 AND user_id = $1`,

    /** $1 user id, $2 now: the user's live sessions, oldest first (the per-user bound). */
    liveOfUser: `SELECT digest, handle FROM ${t} WHERE user_id = $1 AND ${live('$2')} ORDER BY created_at, digest`,

    /** $1 digests: evicted sessions, with their handles. */
    destroyDigests: `DELETE FROM ${t} WHERE digest = ANY($1::text[]) RETURNING handle`,

    /**
     * $1 digest, $2 tag, $3 now, $4 data keys to delete, $5 data to set (jsonb object), $6 user
     * (null: keep), $7/$8 refresh digest and expiry (null: keep), $9/$10 password proof (null: keep),
     * $11 max keys, $12 max bytes. Changed keys only, in one statement that writes nothing when the
     * session is gone or the data would pass the caps, both judged on the row as it is now.
     */
    patch: `
UPDATE ${t} SET
  data = (data - $4::text[]) || $5::jsonb,
  user_json = COALESCE($6, user_json),
  refresh_digest = COALESCE($7, refresh_digest),
  refresh_expires_at = CASE WHEN $7::text IS NULL THEN refresh_expires_at ELSE $8::bigint END,
  password_proof_at = COALESCE($9::bigint, password_proof_at),
  password_proof_username = CASE WHEN $9::bigint IS NULL THEN password_proof_username ELSE $10 END
WHERE digest = $1 AND tag = $2 AND ${live('$3')}
  AND (SELECT count(*) <= $11::bigint AND COALESCE(sum(octet_length(key) + octet_length(value)), 0) <= $12::bigint
       FROM jsonb_each_text((data - $4::text[]) || $5::jsonb))
RETURNING 1`,

    /** $1 to $5 as in patch, $6 max keys, $7 max bytes: whether the live session's data would pass the caps (no row when it is gone). */
    patchTooLarge: `
SELECT (SELECT count(*) > $6::bigint OR COALESCE(sum(octet_length(key) + octet_length(value)), 0) > $7::bigint
        FROM jsonb_each_text((data - $4::text[]) || $5::jsonb)) AS too_large
FROM ${t} WHERE digest = $1 AND tag = $2 AND ${live('$3')}`,

    /** $1 from digest, $2 to digest, $3 tag, $4 now. Keeps handle, data and deadlines; the old digest is gone in the same step. */
    rename: `UPDATE ${t} SET digest = $2 WHERE digest = $1 AND tag = $3 AND ${live('$4')} RETURNING 1`,

    /** $1 digest, $2 tag. */
    destroy: `DELETE FROM ${t} WHERE digest = $1 AND tag = $2`,

    /** $1 user id, $2 tag, $3 now, $4 limit: the user's most recently created live sessions. */
    listByUser: `
SELECT ${RECORD_COLUMNS} FROM ${t}
WHERE user_id = $1 AND tag = $2 AND ${live('$3')}
ORDER BY created_at DESC, digest LIMIT $4`,

    /** $1 user id, $2 tag, $3 handle, $4 now. */
    destroyByHandle: `DELETE FROM ${t} WHERE user_id = $1 AND tag = $2 AND handle = $3 AND ${live('$4')} RETURNING 1`,

    /**
     * $1 user id, $2 tag, $3 handle to keep (null: none), $4 now, $5 batch size. One batch of a
     * revoke-all, matched by handle, which a rename does not change: a session renamed while this
     * runs is still found on its newest row version. Answers whether each deleted row was live.
     */
    destroyUserBatch: `
DELETE FROM ${t}
WHERE user_id = $1 AND tag = $2 AND handle IS DISTINCT FROM $3
  AND handle IN (SELECT handle FROM ${t} WHERE user_id = $1 AND tag = $2 AND handle IS DISTINCT FROM $3 LIMIT $5)
RETURNING ${live('$4')} AS was_live`,
  };
}
