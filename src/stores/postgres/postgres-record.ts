import type { SessionRecord } from '../../core/session-store.js';

/** The columns a read returns, in the order of every statement that returns a session. */
export const RECORD_COLUMNS =
  'handle, user_id, user_json, created_at, last_seen_at, absolute_expires_at, user_agent, ip, data, ' +
  'refresh_digest, refresh_expires_at, password_proof_at, password_proof_username';

/** The same columns qualified by a table alias, for statements that join. */
export function recordColumnsOf(alias: string): string {
  return RECORD_COLUMNS.split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');
}

/** A row with RECORD_COLUMNS as a record. bigint columns arrive as text from pg; data as a parsed jsonb object of strings. */
export function rowToRecord(row: Record<string, unknown>): SessionRecord {
  const refreshDigest = row.refresh_digest as string | null;
  const proofAt = row.password_proof_at as string | null;
  return {
    handle: row.handle as string,
    userId: (row.user_id as string | null) ?? null,
    user: (row.user_json as string | null) ?? null,
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
    absoluteExpiresAt: Number(row.absolute_expires_at),
    userAgent: (row.user_agent as string | null) ?? null,
    ip: (row.ip as string | null) ?? null,
    data: { ...(row.data as Record<string, string>) },
    ...(refreshDigest !== null && { refresh: { digest: refreshDigest, expiresAt: Number(row.refresh_expires_at) } }),
    ...(proofAt !== null && { passwordProof: { at: Number(proofAt), username: (row.password_proof_username as string | null) ?? null } }),
  };
}

/** The values of INSERT_SESSION's $3 onwards, in its column order. */
export function recordToValues(record: SessionRecord, expiresAt: number): unknown[] {
  return [
    record.handle,
    record.userId,
    record.user,
    record.createdAt,
    record.lastSeenAt,
    expiresAt,
    record.absoluteExpiresAt,
    record.userAgent,
    record.ip,
    JSON.stringify(record.data),
    record.refresh?.digest ?? null,
    record.refresh?.expiresAt ?? null,
    record.passwordProof?.at ?? null,
    record.passwordProof?.username ?? null,
  ];
}
