import { createHash, timingSafeEqual } from 'node:crypto';
import { parseDictionary, serializeDictionary } from 'structured-headers';

/** RFC 9530 `Content-Digest` with `sha-256` of the body bytes: `sha-256=:<base64>:`. */
export function contentDigest(body: Uint8Array): string {
  return serializeDictionary({ 'sha-256': createHash('sha256').update(body).digest() });
}

/**
 * Whether the header's `sha-256` member is the SHA-256 of `body`. Other algorithms in the
 * header are ignored; without `sha-256`, or with a header that is not a structured dictionary, false.
 */
export function contentDigestMatches(header: string, body: Uint8Array): boolean {
  let member;
  try {
    member = parseDictionary(header).get('sha-256');
  } catch {
    return false;
  }
  const value = member?.[0];
  if (!(value instanceof ArrayBuffer)) return false;
  const claimed = Buffer.from(value);
  const actual = createHash('sha256').update(body).digest();
  return claimed.length === actual.length && timingSafeEqual(claimed, actual);
}
