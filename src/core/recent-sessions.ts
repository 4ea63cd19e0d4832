/**
 * The sessions this process has seen in use lately, for the active-session gauge: a session
 * counts from its creation or any store read, refresh or rotation that found it, until `windowMs`
 * passes without one, or until it ends through this process (logout, revocation, eviction).
 * Recording is one Map move per request; counting (at scrape time) drops the entries that aged
 * out, oldest first, so it costs what expired since the last count. Memory is bounded by
 * `capacity`: past it the least recently seen session is forgotten, and the count saturates.
 * Per process: instances behind a load balancer each count the sessions they served.
 */
export class RecentSessions {
  /** handle → last seen (ms), in order of last use: the Map's insertion order. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly capacity = 100_000,
    private readonly clock: () => number = Date.now,
  ) {}

  touch(handle: string): void {
    this.seen.delete(handle);
    this.seen.set(handle, this.clock());
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.keys().next().value!);
  }

  forget(handle: string): void {
    this.seen.delete(handle);
  }

  count(): number {
    const since = this.clock() - this.windowMs;
    for (const [handle, at] of this.seen) {
      if (at > since) break;
      this.seen.delete(handle);
    }
    return this.seen.size;
  }
}
