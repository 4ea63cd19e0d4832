/**
 * The PostgreSQL store's first migration, as SQL. The build writes it out as
 * `dist/stores/postgres/migrations/001_sessions.sql` (and under dist/cjs) for those who run
 * migrations themselves; `migrate: true` runs this same text at start-up.
 *
 * Names are psql variables (`:"schema"` quotes the value as an identifier), so the file runs
 * as it is with psql, and the store puts its validated, quoted names in the same places.
 * Every statement is idempotent (IF NOT EXISTS): running it again changes nothing.
 *
 * Times are milliseconds since the epoch (bigint), as the store contract hands them over: the
 * app's clock judges session deadlines, so every instance agrees with the tests of its own
 * touch policy. Data values are JSON text kept as jsonb strings, so they read back byte for
 * byte as they were written.
 */
export const MIGRATION_001_FILE = '001_sessions.sql';

export const MIGRATION_001_SQL = `-- nestjs-session-auth PostgreSQL store, migration 001: sessions, session locks, nonces, login counters.
-- Run by hand with the default names:
--   psql "$DATABASE_URL" -v schema=public -v sessions=session_auth_sessions \\
--     -v sessions_by_user=session_auth_sessions_by_user -v sessions_by_expiry=session_auth_sessions_by_expiry \\
--     -v locks=session_auth_sessions_locks -v nonces=session_auth_sessions_nonces -v throttle=session_auth_sessions_throttle \\
--     -f 001_sessions.sql
-- or let the module run it at start-up with the store option migrate: true (which also creates
-- the schema when it is missing). The schema must exist; creating it needs CREATE on the database.

-- One row per session. The primary key is the SHA-256 of the session token (base64url), never the token.
CREATE TABLE IF NOT EXISTS :"schema".:"sessions" (
  digest text PRIMARY KEY,
  -- The slot tag the token carries (the user's, or random when anonymous).
  tag text NOT NULL,
  -- Public random handle for listing and revoking.
  handle text NOT NULL,
  user_id text,
  user_json text,
  created_at bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  -- The idle deadline (slid by reads, never past absolute_expires_at) and the absolute one.
  expires_at bigint NOT NULL,
  absolute_expires_at bigint NOT NULL,
  user_agent text,
  ip text,
  -- Data key -> JSON text of its value.
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- The current refresh token's digest and expiry; consumed digests, newest last (reuse detection).
  refresh_digest text,
  refresh_expires_at bigint,
  consumed_refresh text[] NOT NULL DEFAULT '{}',
  -- The last rotation while its reuse grace window lasts: consumed digest, window end, successor, sealed successor.
  replay_digest text,
  replay_until bigint,
  replay_next_digest text,
  replay_sealed_next text,
  password_proof_at bigint,
  password_proof_username text
);

-- A user's sessions, newest first (list, revoke all, the per-user bound).
CREATE INDEX IF NOT EXISTS :"sessions_by_user" ON :"schema".:"sessions" (user_id, tag, created_at) WHERE user_id IS NOT NULL;
-- The sweeper's expired rows.
CREATE INDEX IF NOT EXISTS :"sessions_by_expiry" ON :"schema".:"sessions" (expires_at);

-- Session locks (SessionLocks): one row per held lock, free once expires_at has passed.
CREATE TABLE IF NOT EXISTS :"schema".:"locks" (
  session_digest text NOT NULL,
  name text NOT NULL,
  owner text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (session_digest, name)
);

-- Replay nonces of signed requests: scope and SHA-256 of the nonce, until expires_at.
CREATE TABLE IF NOT EXISTS :"schema".:"nonces" (
  key text PRIMARY KEY,
  expires_at bigint NOT NULL
);

-- Login throttle counters, in the layout of rate-limiter-flexible's RateLimiterPostgres.
CREATE TABLE IF NOT EXISTS :"schema".:"throttle" (
  key varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
`;
