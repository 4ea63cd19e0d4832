import { measureSessionData, type PasswordProof, type SessionRecord } from '../../core/session-store.js';

/** Hash fields of a stored session. Data keys get a prefix so they can never collide with metadata. */
const DATA_PREFIX = 'd:';

export function dataField(name: string): string {
  return DATA_PREFIX + name;
}

/** A session record as HSET arguments: field, value, field, value... */
export function recordToFields(record: SessionRecord): string[] {
  const fields = [
    'h', record.handle,
    'u', record.userId ?? '',
    'user', record.user ?? '',
    'c', String(record.createdAt),
    's', String(record.lastSeenAt),
    'a', String(record.absoluteExpiresAt),
    'ua', record.userAgent ?? '',
    'ip', record.ip ?? '',
  ];
  if (record.refresh) fields.push('rt', record.refresh.digest, 'rx', String(record.refresh.expiresAt));
  if (record.passwordProof) fields.push(...passwordProofFields(record.passwordProof));
  for (const [name, value] of Object.entries(record.data)) fields.push(dataField(name), value);
  // The data's size, which PATCH keeps up to date to enforce SESSION_DATA_LIMITS cheaply.
  const size = measureSessionData(record.data);
  fields.push('db', String(size.bytes), 'dk', String(size.keys));
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
  const lastSeenAt = Number(meta.get('s'));
  const absoluteExpiresAt = Number(meta.get('a'));
  if (!handle || !Number.isFinite(createdAt + lastSeenAt + absoluteExpiresAt)) return null;
  const refreshDigest = meta.get('rt');
  return {
    handle,
    userId: meta.get('u') || null,
    user: meta.get('user') || null,
    createdAt,
    lastSeenAt,
    absoluteExpiresAt,
    userAgent: meta.get('ua') || null,
    ip: meta.get('ip') || null,
    data,
    ...(refreshDigest && { refresh: { digest: refreshDigest, expiresAt: Number(meta.get('rx')) } }),
    ...(meta.has('pa') && { passwordProof: { at: Number(meta.get('pa')), username: meta.has('pn') ? meta.get('pn')! : null } }),
  };
}

/** The hash fields of a password proof: `pa` its time, `pn` the login name (absent when there was none). */
export function passwordProofFields(proof: PasswordProof): string[] {
  return proof.username === null ? ['pa', String(proof.at)] : ['pa', String(proof.at), 'pn', proof.username];
}
