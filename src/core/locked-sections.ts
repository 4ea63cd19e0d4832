import type { AuthEventListener } from './auth-events.js';
import { InvalidSessionError, SessionLockTimeoutError } from './errors.js';
import type { CredentialKind, Session } from './session.js';
import type { HeldLock, SessionLock, SessionLockOptions } from './session-lock.js';
import { assertLockName } from './session-locks.js';
import type { SessionRecord } from './session-store.js';
import type { SessionRef } from './session-token.js';

/** What a locked section needs of the session manager. */
export interface LockedSectionHooks {
  /** Reads the session again from the store under the credential's idle rule; null when it is gone. */
  reload(ref: SessionRef, via: CredentialKind | null): Promise<SessionRecord | null>;
  /** Saves the session's pending changes. */
  commit(session: Session): Promise<void>;
  emit: AuthEventListener;
}

/**
 * A read-modify-write of session data under a session lock (SessionManager.withLock). The
 * request's Session holds data read when the request began, which another request may have
 * changed since; so a locked section:
 * 1. saves the changes the request made before;
 * 2. takes the lock (waiting up to `waitMs`, else SessionLockTimeoutError and `lock.timeout`);
 * 3. reads the session again, so `fn` sees every write committed under the lock before;
 * 4. runs `fn`, then renews the lease as proof it has not run out (else SessionLockLostError:
 *    another request may have taken the lock meanwhile) and saves `fn`'s changes while the lock
 *    is still held; when `fn` throws or the lease was lost, its changes are discarded;
 * 5. releases the lock by compare-and-delete of its owner value.
 * Only writers that take the lock are serialized: a write of the same key outside it can still be lost.
 */
export class LockedSections {
  constructor(
    private readonly lock: SessionLock,
    private readonly hooks: LockedSectionHooks,
  ) {}

  async run<T>(session: Session, name: string, fn: (session: Session, lease: HeldLock) => T | Promise<T>, options: SessionLockOptions): Promise<T> {
    assertLockName(name);
    const ref = session.ref;
    if (ref === null) throw new InvalidSessionError('not-found');
    await this.hooks.commit(session);
    const held = await this.acquire(session, ref, name, options);
    try {
      const fresh = await this.hooks.reload(ref, session.via);
      if (fresh === null) throw new InvalidSessionError('not-found');
      session.adopt(ref, fresh, { token: session.token, via: session.via });
      let result: T;
      try {
        result = await fn(session, held);
        await held.renew();
      } catch (error) {
        session.changes.clear();
        throw error;
      }
      await this.hooks.commit(session);
      return result;
    } finally {
      // A release that fails (store away) leaves the lock to expire with its lease.
      await held.release().catch(() => undefined);
    }
  }

  private async acquire(session: Session, ref: SessionRef, name: string, options: SessionLockOptions): Promise<HeldLock> {
    try {
      return await this.lock.acquire(ref, name, options);
    } catch (error) {
      if (error instanceof SessionLockTimeoutError) {
        this.hooks.emit({ type: 'lock.timeout', userId: session.record?.userId ?? null, sessionId: session.id, lock: name, waitedMs: error.waitedMs });
      }
      throw error;
    }
  }
}
