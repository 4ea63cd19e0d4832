/**
 * The memory store's session locks (SessionLocks): owner and lease deadline per lock key. Each
 * method runs in one synchronous step, so compare-and-set needs no more than that.
 */
export class MemoryLockTable {
  private readonly locks = new Map<string, { owner: string; expiresAt: number }>();

  acquire(key: string, owner: string, leaseMs: number, now: number): boolean {
    const held = this.locks.get(key);
    if (held && held.expiresAt > now) return false;
    this.locks.set(key, { owner, expiresAt: now + leaseMs });
    return true;
  }

  renew(key: string, owner: string, leaseMs: number, now: number): boolean {
    const held = this.locks.get(key);
    if (!held || held.owner !== owner || held.expiresAt <= now) return false;
    held.expiresAt = now + leaseMs;
    return true;
  }

  release(key: string, owner: string): void {
    if (this.locks.get(key)?.owner === owner) this.locks.delete(key);
  }

  /** Forgets locks whose lease ran out, so the table holds only locks in use. */
  sweep(now: number): void {
    for (const [key, held] of [...this.locks]) if (held.expiresAt <= now) this.locks.delete(key);
  }
}
