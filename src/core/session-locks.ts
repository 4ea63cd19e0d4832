import { InvalidSessionDataError } from './errors.js';
import type { SessionStore } from './session-store.js';
import type { SessionRef } from './session-token.js';

/**
 * An optional store capability: short named locks scoped to one session, for a read-modify-write
 * of its data that concurrent requests must not interleave (SessionManager.withLock). A lock is
 * held by an `owner` value, random per attempt, until its lease runs out or the owner releases it.
 * Every lock expires with its lease, so a crashed holder blocks others for at most `leaseMs`.
 * Like every store method, these reject only when the store fails (SessionStoreUnavailableError).
 */
export interface SessionLocks {
  /** Takes the lock for `leaseMs` when nobody holds it (or the holder's lease ran out). True when taken. */
  acquireLock(ref: SessionRef, name: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Extends the lease to `leaseMs` from now, only while `owner` still holds it. False when it does not. */
  renewLock(ref: SessionRef, name: string, owner: string, leaseMs: number): Promise<boolean>;
  /**
   * Frees the lock only while `owner` holds it, comparing and deleting in one atomic step: a lock
   * whose lease ran out and was taken by another request is never released by the first.
   */
  releaseLock(ref: SessionRef, name: string, owner: string): Promise<void>;
}

export type LockableSessionStore = SessionStore & SessionLocks;

export function isLockable(store: SessionStore): store is LockableSessionStore {
  const candidate = store as Partial<SessionLocks>;
  return (
    typeof candidate.acquireLock === 'function' && typeof candidate.renewLock === 'function' && typeof candidate.releaseLock === 'function'
  );
}

const LOCK_NAME = /^[\x21-\x7e]{1,128}$/;

/** Lock names go into store keys: 1 to 128 printable ASCII characters, no spaces. */
export function assertLockName(name: string): void {
  if (typeof name !== 'string' || !LOCK_NAME.test(name)) {
    throw new InvalidSessionDataError(`Session lock name ${JSON.stringify(name)} is not allowed: use 1 to 128 printable ASCII characters without spaces.`);
  }
}
