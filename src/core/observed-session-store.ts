import type { SessionLocks } from './session-locks.js';
import { isLockable } from './session-locks.js';
import type {
  CreateOptions,
  CreateResult,
  RefreshGrace,
  RefreshRotation,
  RefreshState,
  SessionPatch,
  SessionRecord,
  SessionStore,
  TouchPolicy,
} from './session-store.js';
import type { SessionRef, UserRef } from './session-token.js';

/** The name of a store operation as observers see it: the SessionStore (or SessionLocks) method's name. */
export type StoreOperationName = keyof SessionStore | keyof SessionLocks | 'ping';

/** Called when the operation settles: with its error when it rejected, else with its result. */
export type StoreOperationEnd = (error: unknown, result?: unknown) => void;

/**
 * Watches store operations (metrics, tracing). `start` runs when an operation begins, with its
 * arguments, and returns what to call when it settles. Observers must not throw; what they return
 * never changes the operation's outcome.
 */
export interface StoreObserver {
  start(operation: StoreOperationName, args: readonly unknown[]): StoreOperationEnd;
}

/** Several observers as one, started in order and ended in reverse (so spans enclose timings). */
export function combineObservers(observers: StoreObserver[]): StoreObserver {
  if (observers.length === 1) return observers[0];
  return {
    start(operation, args) {
      const ends = observers.map((observer) => observer.start(operation, args));
      return (error, result) => {
        for (let i = ends.length - 1; i >= 0; i--) ends[i](error, result);
      };
    },
  };
}

/**
 * A SessionStore decorator that reports every operation to an observer and otherwise changes
 * nothing: same arguments, same results, same rejections. The optional capabilities of the store
 * it wraps (SessionLocks, `ping`, `close`) are offered exactly when the inner store has them, so
 * `isLockable` answers the same for both.
 */
export class ObservedSessionStore implements SessionStore {
  declare acquireLock?: SessionLocks['acquireLock'];
  declare renewLock?: SessionLocks['renewLock'];
  declare releaseLock?: SessionLocks['releaseLock'];
  declare ping?: () => Promise<void>;
  declare close?: () => Promise<void>;

  constructor(
    readonly inner: SessionStore,
    private readonly observer: StoreObserver,
  ) {
    if (isLockable(inner)) {
      this.acquireLock = (...args) => this.observe('acquireLock', args, () => inner.acquireLock(...args));
      this.renewLock = (...args) => this.observe('renewLock', args, () => inner.renewLock(...args));
      this.releaseLock = (...args) => this.observe('releaseLock', args, () => inner.releaseLock(...args));
    }
    const { ping, close } = inner as { ping?: () => Promise<void>; close?: () => Promise<void> };
    if (typeof ping === 'function') this.ping = () => this.observe('ping', [], () => ping.call(inner));
    if (typeof close === 'function') this.close = () => close.call(inner);
  }

  read(ref: SessionRef, touch: TouchPolicy): Promise<SessionRecord | null> {
    return this.observe('read', [ref, touch], () => this.inner.read(ref, touch));
  }

  create(ref: SessionRef, record: SessionRecord, ttlMs: number, options?: CreateOptions): Promise<CreateResult> {
    return this.observe('create', [ref, record, ttlMs, options], () => this.inner.create(ref, record, ttlMs, options));
  }

  update(ref: SessionRef, patch: SessionPatch): Promise<boolean> {
    return this.observe('update', [ref, patch], () => this.inner.update(ref, patch));
  }

  rename(from: SessionRef, to: SessionRef): Promise<boolean> {
    return this.observe('rename', [from, to], () => this.inner.rename(from, to));
  }

  rotateRefreshToken(
    ref: SessionRef,
    presentedDigest: string,
    next: RefreshState,
    touch: TouchPolicy,
    grace?: RefreshGrace,
  ): Promise<RefreshRotation> {
    return this.observe('rotateRefreshToken', [ref, presentedDigest, next, touch, grace], () =>
      this.inner.rotateRefreshToken(ref, presentedDigest, next, touch, grace),
    );
  }

  destroyByRefreshToken(ref: SessionRef, presentedDigest: string): Promise<SessionRecord | null> {
    return this.observe('destroyByRefreshToken', [ref, presentedDigest], () => this.inner.destroyByRefreshToken(ref, presentedDigest));
  }

  destroy(ref: SessionRef): Promise<void> {
    return this.observe('destroy', [ref], () => this.inner.destroy(ref));
  }

  listByUser(user: UserRef): Promise<SessionRecord[]> {
    return this.observe('listByUser', [user], () => this.inner.listByUser(user));
  }

  destroyByHandle(user: UserRef, handle: string): Promise<boolean> {
    return this.observe('destroyByHandle', [user, handle], () => this.inner.destroyByHandle(user, handle));
  }

  destroyByUser(user: UserRef, keepHandle?: string): Promise<number> {
    return this.observe('destroyByUser', [user, keepHandle], () => this.inner.destroyByUser(user, keepHandle));
  }

  // A plain then rather than an async function: this wraps every store operation on the request path.
  private observe<T>(operation: StoreOperationName, args: readonly unknown[], run: () => Promise<T>): Promise<T> {
    const end = this.observer.start(operation, args);
    let pending: Promise<T>;
    try {
      pending = run();
    } catch (error) {
      end(error);
      return Promise.reject(error);
    }
    return pending.then(
      (result) => {
        end(undefined, result);
        return result;
      },
      (error: unknown) => {
        end(error);
        throw error;
      },
    );
  }
}
