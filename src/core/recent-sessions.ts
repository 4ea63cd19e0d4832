import type { SessionRef } from './session-token.js';

interface Seen {
  handle: string;
  userId: string;
  at: number;
}

/**
 * The user sessions this process has seen alive lately, for the active-session gauge. A session
 * counts from its creation, or any store read, refresh or rotation that found it, until
 * `windowMs` passes without one, or until this process ends it (logout, revocation, eviction,
 * refresh-token reuse). Recording is a Map move per store operation; counting (at scrape time)
 * drops what aged out, oldest first, so it costs what expired since the last count. Memory is
 * bounded by `capacity`: past it the least recently seen session is forgotten (the count
 * saturates). Per process: instances behind a load balancer each count the sessions they served,
 * and a session ended through another instance counts here until its window passes.
 */
export class RecentSessions {
  /** By store key (`tag` and digest), in order of last use: the Map's insertion order. */
  private readonly seen = new Map<string, Seen>();
  private readonly keyByHandle = new Map<string, string>();

  constructor(
    private readonly windowMs: number,
    private readonly capacity = 100_000,
    private readonly clock: () => number = Date.now,
  ) {}

  touch(ref: SessionRef, handle: string, userId: string): void {
    const key = keyOf(ref);
    this.seen.delete(key);
    this.seen.set(key, { handle, userId, at: this.clock() });
    this.keyByHandle.set(handle, key);
    if (this.seen.size > this.capacity) this.forgetKey(this.seen.keys().next().value!);
  }

  /** The session moved to a new token (rotation): same session, same place in the count. */
  moved(from: SessionRef, to: SessionRef): void {
    const entry = this.seen.get(keyOf(from));
    if (entry === undefined) return;
    this.forgetKey(keyOf(from));
    this.touch(to, entry.handle, entry.userId);
  }

  forget(ref: SessionRef): void {
    this.forgetKey(keyOf(ref));
  }

  forgetHandle(handle: string): void {
    const key = this.keyByHandle.get(handle);
    if (key !== undefined) this.forgetKey(key);
  }

  /** Revoke-all: every session of the user but the one kept. A scan, as revoking all is rare. */
  forgetUser(userId: string, keepHandle?: string): void {
    for (const [key, entry] of this.seen) {
      if (entry.userId === userId && entry.handle !== keepHandle) this.forgetKey(key);
    }
  }

  count(): number {
    const since = this.clock() - this.windowMs;
    for (const [key, entry] of this.seen) {
      if (entry.at > since) break;
      this.forgetKey(key);
    }
    return this.seen.size;
  }

  private forgetKey(key: string): void {
    const entry = this.seen.get(key);
    if (entry === undefined) return;
    this.seen.delete(key);
    if (this.keyByHandle.get(entry.handle) === key) this.keyByHandle.delete(entry.handle);
  }
}

function keyOf(ref: SessionRef): string {
  return `${ref.tag}:${ref.digest}`;
}
