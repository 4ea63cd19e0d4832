import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The successor of a refresh token, sealed to that token: AES-256-GCM under a key derived
 * (HKDF-SHA256) from the token's secret, bound to its session (`sid`) as associated data.
 *
 * Why sealed: inside the reuse grace window (`jwt.refreshReuseGrace`) a second refresh with the
 * token that was just rotated (two tabs at once) must get the same successor, not a second family
 * member, but the store keeps digests only. A sealed successor keeps tokens unusable at rest:
 * the key comes from the previous token's secret, of which the store holds only a SHA-256 (a
 * different function of it), so a dump of the store opens nothing, and there is no server-wide
 * key that opens every family's successor. The alternative, a successor derived as HMAC(server
 * key, previous token), would let one old token plus a leaked key compute every later token of
 * its family, and so defeat reuse detection for good.
 */
const INFO = 'nestjs-session-auth refresh successor';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function sealSuccessor(previousSecret: string, sid: string, successorToken: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(previousSecret), iv).setAAD(Buffer.from(sid));
  const sealed = Buffer.concat([cipher.update(successorToken, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
}

/** The successor token, or null when `sealed` was not sealed to this token and session (or was altered). */
export function openSuccessor(previousSecret: string, sid: string, sealed: string): string | null {
  const box = Buffer.from(sealed, 'base64url');
  if (box.length <= IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(previousSecret), box.subarray(0, IV_BYTES)).setAAD(Buffer.from(sid));
    decipher.setAuthTag(box.subarray(box.length - TAG_BYTES));
    return Buffer.concat([decipher.update(box.subarray(IV_BYTES, box.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

function keyOf(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), INFO, 32));
}
