import type { NonceStore } from '../nonce-store.js';
import { SignedRequestConfigurationError } from './signed-request-errors.js';

export interface SignedRequestOptions {
  /**
   * HMAC-SHA256 secrets by key id (`keyid` in Signature-Input), each at least 32 characters.
   * Several at once, so a client can move to a new key before the old one is removed.
   * Key ids: 1 to 64 of `A-Z a-z 0-9 . _ -`.
   */
  keys: Record<string, string>;
  /** How far `created` may be from the server's clock, either way, and how long a nonce is remembered. Default: 300. */
  windowSeconds?: number;
  /** Where nonces are remembered. Default: the SessionModule's store (Redis: SET NX PX), else memory. */
  nonceStore?: NonceStore;
  /** Bound of the memory nonce store, when that is the one used. Default: 100000. */
  maxNonces?: number;
}

export interface ResolvedSignedRequestOptions {
  keys: Map<string, Buffer>;
  windowMs: number;
  nonceStore: NonceStore | undefined;
  maxNonces: number;
}

export const MIN_SIGNING_KEY_LENGTH = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Checks and defaults the options once, at boot. */
export function resolveSignedRequestOptions(options: SignedRequestOptions): ResolvedSignedRequestOptions {
  const entries = typeof options?.keys === 'object' && options.keys !== null ? Object.entries(options.keys) : [];
  if (entries.length === 0) {
    throw new SignedRequestConfigurationError('keys', 'is missing or empty', "Give at least one key: { keys: { 'kid1': '<32+ character secret>' } }.");
  }
  const keys = new Map<string, Buffer>();
  for (const [keyId, secret] of entries) {
    if (!KEY_ID.test(keyId)) {
      throw new SignedRequestConfigurationError('keys', `has the key id ${JSON.stringify(keyId)}`, 'Use 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" and "-".');
    }
    if (typeof secret !== 'string' || secret.length < MIN_SIGNING_KEY_LENGTH) {
      throw new SignedRequestConfigurationError(
        `keys.${keyId}`,
        `is shorter than ${MIN_SIGNING_KEY_LENGTH} characters`,
        'Use a random secret of at least 32 characters (e.g. 32 random bytes, base64url).',
      );
    }
    keys.set(keyId, Buffer.from(secret, 'utf8'));
  }
  const windowSeconds = options.windowSeconds ?? 300;
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > 3600) {
    throw new SignedRequestConfigurationError('windowSeconds', `is ${String(windowSeconds)}`, 'Use a whole number of seconds from 1 to 3600.');
  }
  const maxNonces = options.maxNonces ?? 100_000;
  if (!Number.isInteger(maxNonces) || maxNonces < 1) {
    throw new SignedRequestConfigurationError('maxNonces', `is ${String(maxNonces)}`, 'Use a positive whole number.');
  }
  return { keys, windowMs: windowSeconds * 1000, nonceStore: options.nonceStore, maxNonces };
}
