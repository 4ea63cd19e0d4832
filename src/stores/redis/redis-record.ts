import { isIPv4 } from 'node:net';
import { measureSessionData, type PasswordProof, type SessionRecord } from '../../core/session-store.js';

/**
 * Hash fields of a stored session (layout: redis-scripts.ts). One-letter names keep a session
 * small; data keys get a prefix no metadata name has, so they can never collide with metadata.
 */
const DATA_PREFIX = '.';

/**
 * Data up to this size has no size fields: PATCH measures it (a listpack-sized hash, cheap to
 * walk). Past it the size is kept in db/dk, so a write to a large session costs only what it changes.
 */
export const MEASURED_DATA_LIMITS = { bytes: 2048, keys: 32 } as const;

export function dataField(name: string): string {
  return DATA_PREFIX + name;
}

/**
 * A session record as HSET arguments: field, value, field, value... Empty fields are left out.
 * Times after `c` are kept relative to it (`s`, `a`, `p`): small integers take fewer bytes, and
 * a time equal to `c` is left out (`s` of a new session; `p` of a login's proof, when `n` is
 * there to tell that there is one). The user's JSON usually starts with the user id, which `u`
 * already holds: it is then kept without it, as `k` (see userJsonWithoutId). An IPv4 address is
 * kept as one integer (see ipField).
 */
export function recordToFields(record: SessionRecord): string[] {
  const created = record.createdAt;
  const fields = ['h', record.handle, 'c', String(created), 'a', String(record.absoluteExpiresAt - created)];
  if (record.lastSeenAt !== created) fields.push('s', String(record.lastSeenAt - created));
  if (record.userId !== null) fields.push('u', record.userId);
  const withoutId = record.user && record.userId !== null ? userJsonWithoutId(record.user, record.userId) : null;
  if (withoutId !== null) fields.push('k', withoutId);
  else if (record.user) fields.push('j', record.user);
  if (record.userAgent) fields.push('b', record.userAgent);
  if (record.ip) fields.push('i', ipField(record.ip));
  if (record.refresh) fields.push('rt', record.refresh.digest, 'rx', String(record.refresh.expiresAt));
  const proof = record.passwordProof;
  // A login name that is the user id (apps that log in by id) is kept as an empty `n`: no second copy.
  if (proof && proof.at === created && proof.username !== null) fields.push('n', proof.username === record.userId ? '' : proof.username);
  else if (proof) fields.push(...passwordProofFields({ ...proof, at: proof.at - created }));
  for (const [name, value] of Object.entries(record.data)) fields.push(dataField(name), value);
  const size = measureSessionData(record.data);
  if (size.bytes > MEASURED_DATA_LIMITS.bytes || size.keys > MEASURED_DATA_LIMITS.keys) {
    fields.push('db', String(size.bytes), 'dk', String(size.keys));
  }
  return fields;
}

/** The flat HGETALL reply of a session hash as a record; null when it is not a session of ours. */
export function fieldsToRecord(flat: readonly string[]): SessionRecord | null {
  const meta = new Map<string, string>();
  const data: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i];
    if (name.startsWith(DATA_PREFIX)) data[name.slice(DATA_PREFIX.length)] = flat[i + 1];
    else meta.set(name, flat[i + 1]);
  }
  const handle = meta.get('h');
  const createdAt = Number(meta.get('c'));
  // A session not seen since its creation has no `s` (READ_AND_TOUCH and ROTATE_REFRESH read it so too).
  const lastSeenAt = createdAt + Number(meta.get('s') ?? 0);
  const absoluteExpiresAt = createdAt + Number(meta.get('a'));
  if (!handle || !Number.isFinite(createdAt + lastSeenAt + absoluteExpiresAt)) return null;
  const refreshDigest = meta.get('rt');
  const userId = meta.get('u') || null;
  const withoutId = meta.get('k');
  return {
    handle,
    userId,
    user: meta.get('j') || (withoutId && userId !== null ? userJsonWithId(withoutId, userId) : null),
    createdAt,
    lastSeenAt,
    absoluteExpiresAt,
    userAgent: meta.get('b') || null,
    ip: ipFromField(meta.get('i')),
    data,
    ...(refreshDigest && { refresh: { digest: refreshDigest, expiresAt: Number(meta.get('rx')) } }),
    ...((meta.has('p') || meta.has('n')) && {
      passwordProof: { at: createdAt + Number(meta.get('p') ?? 0), username: meta.has('n') ? meta.get('n') || userId : null },
    }),
  };
}

/**
 * The hash fields of a password proof: `p` its time (relative to `c` once stored: PATCH turns an
 * absolute one into that), `n` the login name (absent when there was none).
 */
export function passwordProofFields(proof: PasswordProof): string[] {
  return proof.username === null ? ['p', String(proof.at)] : ['p', String(proof.at), 'n', proof.username];
}

/** Offset that keeps every IPv4 address, as a signed number, in Redis' 32-bit listpack integer. */
const IPV4_OFFSET = 2 ** 31;
/** What ipField must mark so it is not read back as a number (or as marked): digits, or the mark itself. */
const NEEDS_MARK = /^(-?\d+$|')/;

/**
 * The `i` field of an address: a canonical dotted IPv4 address as one signed integer (6 bytes in
 * the listpack instead of up to 17), anything else as it is, marked with a leading `'` when it
 * could be read back as such a number or already starts with the mark. Lossless (ipFromField).
 */
function ipField(ip: string): string {
  if (isIPv4(ip)) {
    const packed = String(ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0) - IPV4_OFFSET);
    // Only the canonical spelling (no leading zeros) comes back the same.
    if (ipFromField(packed) === ip) return packed;
  }
  return NEEDS_MARK.test(ip) ? `'${ip}` : ip;
}

/** Undoes ipField: the exact text it was given; null when there is none. */
function ipFromField(field: string | undefined): string | null {
  if (!field) return null;
  if (field.startsWith("'")) return field.slice(1);
  if (!/^-?\d+$/.test(field)) return field;
  const value = Number(field) + IPV4_OFFSET;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/**
 * The JSON text that starts `{"id":<the id as JSON>,` without that id, `{}` for a user that is
 * only `{"id":<the id>}`, or null when it does not start so.
 */
function userJsonWithoutId(json: string, userId: string): string | null {
  const id = JSON.stringify(userId);
  if (json === `{"id":${id}}`) return '{}';
  const head = `{"id":${id},`;
  return json.startsWith(head) ? `{${json.slice(head.length)}` : null;
}

/** Undoes userJsonWithoutId: the exact text it was given. */
function userJsonWithId(withoutId: string, userId: string): string {
  const id = JSON.stringify(userId);
  return withoutId === '{}' ? `{"id":${id}}` : `{"id":${id},${withoutId.slice(1)}`;
}
