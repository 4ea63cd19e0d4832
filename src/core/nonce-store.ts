/**
 * An optional store capability: remembering nonces for replay protection (signed requests).
 * Separate from SessionStore so a store offers it without every store having to; the memory and
 * Redis implementations live next to the session stores.
 *
 * The contract:
 * - `rememberNonce` answers true when `nonce` was not yet remembered in `scope`, and remembers it
 *   for `ttlMs`; false when it already is (a replay). Check and remember are one atomic step, so
 *   of many concurrent calls with one nonce exactly one gets true.
 * - It rejects only when the store fails (network, timeout, full): with SessionStoreUnavailableError,
 *   answered with 503. It never answers true on a failure.
 */
export interface NonceStore {
  rememberNonce(scope: string, nonce: string, ttlMs: number): Promise<boolean>;
}

export function isNonceStore(value: unknown): value is NonceStore {
  return typeof (value as Partial<NonceStore> | null)?.rememberNonce === 'function';
}
