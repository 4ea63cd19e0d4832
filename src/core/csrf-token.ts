import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { isSafeMethod, refusesCrossSite } from './cross-site.js';
import type { ResolvedCsrfOptions } from './protection-options.js';
import type { Session } from './session.js';
import type { SessionRef } from './session-token.js';

/** Why a cookie-authenticated unsafe request was refused by the CSRF defence. */
export type CsrfRefusal = 'cross-site' | 'token-missing' | 'token-mismatch';

/**
 * Synchronizer tokens bound to the session (OWASP CSRF cheat sheet): an HMAC, under a key
 * derived from the module secret, of where the session is stored. Nothing new is stored, a token
 * of one session is worthless for another, and since the stored digest changes with the session
 * ID, a token from before a login or a rotation dies with the old ID. The first secret signs,
 * every secret verifies, as for cookies.
 */
export class CsrfTokens {
  private readonly keys: KeyObject[];

  constructor(secrets: readonly string[]) {
    // A key of its own per secret: domain separation from the cookie signature and the slot tags.
    this.keys = secrets.map((secret) => createSecretKey(createHmac('sha256', secret).update('nestjs-session-auth csrf tokens').digest()));
  }

  issue(ref: SessionRef): string {
    return this.sign(this.keys[0], ref);
  }

  /** Whether `presented` is this session's token under any configured secret, in constant time per key. */
  verify(ref: SessionRef, presented: string): boolean {
    const given = Buffer.from(presented, 'latin1');
    let valid = false;
    for (const key of this.keys) {
      const expected = Buffer.from(this.sign(key, ref), 'latin1');
      if (expected.length === given.length && timingSafeEqual(expected, given)) valid = true;
    }
    return valid;
  }

  /** The refusal for a presented header value (undefined when absent), or null when the token is right. */
  check(ref: SessionRef, presented: string | undefined): CsrfRefusal | null {
    if (presented === undefined || presented === '') return 'token-missing';
    return this.verify(ref, presented) ? null : 'token-mismatch';
  }

  private sign(key: KeyObject, ref: SessionRef): string {
    return createHmac('sha256', key).update(`${ref.tag}.${ref.digest}`).digest('base64url');
  }
}

/**
 * The CSRF decision for a request whose session is open: only a request authenticated by the
 * session cookie can be forged (browsers attach cookies on their own, bearer tokens never), so
 * only those are checked: first Fetch Metadata / Origin, then, when the token is on, the token
 * of an unsafe request. `presented` is the token header's value, undefined when absent or repeated.
 */
export function csrfRefusal(
  csrf: ResolvedCsrfOptions | null,
  tokens: CsrfTokens | null,
  session: Session,
  presented: string | undefined,
): CsrfRefusal | null {
  if (csrf === null || session.via !== 'cookie') return null;
  if (refusesCrossSite(csrf, session.request.fetch)) return 'cross-site';
  if (csrf.token === null || tokens === null || session.ref === null) return null;
  if (isSafeMethod(session.request.fetch?.method ?? 'GET')) return null;
  return tokens.check(session.ref, presented);
}
