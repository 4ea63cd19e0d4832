import { SessionLockLostError, SessionLockTimeoutError } from './errors.js';
import type { SessionLocks } from './session-locks.js';
import { randomToken, type SessionRef } from './session-token.js';

/** How long to wait for a session lock, and how long one is held at most unless renewed. */
export interface SessionLockOptions {
  /** Longest wait for another request to release the lock before SessionLockTimeoutError (409). Default: `2000`. */
  waitMs?: number;
  /**
   * How long the lock is held before it expires on its own, unless renewed with `lease.renew()`.
   * Keep it well above the store's operation timeout. Default: `5000`.
   */
  leaseMs?: number;
}

export const DEFAULT_SESSION_LOCK: Required<SessionLockOptions> = { waitMs: 2_000, leaseMs: 5_000 };

/** The first retry waits up to this long; each later one up to twice the previous, at most RETRY_CAP_MS. */
const RETRY_BASE_MS = 2;
const RETRY_CAP_MS = 50;

/** Time and chance, injected so the retry loop can be tested without real waiting. */
export interface LockTiming {
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1), as Math.random. */
  random: () => number;
}

const REAL_TIMING: LockTiming = {
  clock: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/** A lock while held: renew it in a slow handler, release it when done (the manager does). */
export class HeldLock {
  /** @internal */
  constructor(
    private readonly locks: SessionLocks,
    private readonly ref: SessionRef,
    readonly name: string,
    private readonly owner: string,
    readonly leaseMs: number,
  ) {}

  /** Extends the lease to `leaseMs` from now; throws SessionLockLostError when it already ran out. */
  async renew(): Promise<void> {
    if (!(await this.locks.renewLock(this.ref, this.name, this.owner, this.leaseMs))) throw new SessionLockLostError(this.name);
  }

  /** Frees the lock if this holder still has it; a lock another request took since is left alone. */
  release(): Promise<void> {
    return this.locks.releaseLock(this.ref, this.name, this.owner);
  }
}

/**
 * Takes a named lock of one session: one attempt, then retries with exponential backoff and full
 * jitter (a random wait up to 2, 4, 8 … 50 ms), so waiting requests do not retry in lockstep,
 * until `waitMs` has passed. Each attempt has its own random owner value, which is what release
 * and renewal compare against.
 */
export class SessionLock {
  constructor(
    private readonly locks: SessionLocks,
    private readonly timing: LockTiming = REAL_TIMING,
  ) {}

  async acquire(ref: SessionRef, name: string, options: SessionLockOptions = {}): Promise<HeldLock> {
    const { waitMs, leaseMs } = { ...DEFAULT_SESSION_LOCK, ...options };
    const owner = randomToken(16);
    const started = this.timing.clock();
    for (let attempt = 0; ; attempt++) {
      if (await this.locks.acquireLock(ref, name, owner, leaseMs)) return new HeldLock(this.locks, ref, name, owner, leaseMs);
      const waited = this.timing.clock() - started;
      if (waited >= waitMs) throw new SessionLockTimeoutError(name, waited);
      const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** attempt);
      await this.timing.sleep(Math.min(waitMs - waited, Math.max(1, Math.ceil(this.timing.random() * ceiling))));
    }
  }
}
