import { SessionStoreUnavailableError } from '../core/errors.js';
import type { NonceStore } from '../core/nonce-store.js';

export interface MemoryNonceStoreOptions {
  /** Most nonces kept at once. Default: 100000. */
  maxNonces?: number;
}

/**
 * Nonces in this process's memory: for one instance, development and tests. Bounded: when full
 * of nonces that have not expired it refuses (503) rather than forget one, because forgetting
 * a nonce inside its window would let that request be replayed.
 */
export class MemoryNonceStore implements NonceStore {
  /** Key → expiry in ms; Map order is insertion order, roughly oldest expiry first. */
  private readonly nonces = new Map<string, number>();
  private readonly maxNonces: number;

  constructor(options: MemoryNonceStoreOptions = {}) {
    this.maxNonces = options.maxNonces ?? 100_000;
  }

  async rememberNonce(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    this.dropExpiredFromFront(now);
    const key = `${scope}\n${nonce}`;
    const expiresAt = this.nonces.get(key);
    if (expiresAt !== undefined && expiresAt > now) return false;
    if (this.nonces.size >= this.maxNonces) this.dropAllExpired(now);
    if (this.nonces.size >= this.maxNonces) {
      throw new SessionStoreUnavailableError('rememberNonce', `the memory nonce store holds ${this.maxNonces} live nonces; raise maxNonces or use Redis`);
    }
    this.nonces.delete(key);
    this.nonces.set(key, now + ttlMs);
    return true;
  }

  private dropExpiredFromFront(now: number): void {
    for (const [key, expiresAt] of this.nonces) {
      if (expiresAt > now) return;
      this.nonces.delete(key);
    }
  }

  /** TTLs differ, so an expired nonce can sit behind a live one. */
  private dropAllExpired(now: number): void {
    for (const [key, expiresAt] of this.nonces) if (expiresAt <= now) this.nonces.delete(key);
  }
}
