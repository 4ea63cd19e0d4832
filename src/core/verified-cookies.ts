import { BoundedCache } from './bounded-cache.js';
import { refOf, type SessionCookieCodec, type SessionRef, type SessionToken } from './session-token.js';

export interface VerifiedCookie {
  readonly token: SessionToken;
  readonly ref: SessionRef;
}

/** Enough for the cookies of every client active at once on one instance; about 300 bytes each. */
const DEFAULT_MAX_ENTRIES = 10_000;

/**
 * The cookie values this process has verified, with the store reference each names. A browser
 * sends the same cookie on every request, and checking its HMAC and hashing its token cost more
 * than the rest of a memory-store request: a value seen before skips both. Only values whose
 * signature was valid are kept, so a forged one always gets the full, constant-time check; the
 * store is still asked on every request, so a revoked session is refused as before. Values live
 * only in this process's memory, as they do while a request is handled; the oldest goes first.
 */
export class VerifiedCookies {
  private readonly verified: BoundedCache<string, VerifiedCookie>;

  constructor(
    private readonly codec: SessionCookieCodec,
    maxEntries = DEFAULT_MAX_ENTRIES,
  ) {
    this.verified = new BoundedCache(maxEntries);
  }

  /** The token and store reference of a signed cookie value; throws InvalidSessionError as the codec does. */
  verify(value: string): VerifiedCookie {
    const known = this.verified.get(value);
    if (known !== undefined) return known;
    const token = this.codec.decode(value);
    const cookie = { token, ref: refOf(token) };
    this.verified.set(value, cookie);
    return cookie;
  }

  get size(): number {
    return this.verified.size;
  }
}
