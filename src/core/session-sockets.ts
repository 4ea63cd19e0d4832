import type { SessionEndNotice } from './session-end-channel.js';

/** A long-lived connection that depends on one session. */
export interface WatchedSocket {
  readonly userId: string;
  /** The session's public handle. */
  readonly handle: string | null;
  /**
   * Opens the socket's session again, as its next message would: the time (ms since the epoch)
   * at which it will expire unless used, or null when it is over. Rejects when the store cannot
   * tell (unreachable).
   */
  recheck(): Promise<number | null>;
  /** Ends the connection because its session is over. */
  close(reason: string): void;
}

interface Watch {
  socket: WatchedSocket;
  timer: NodeJS.Timeout | undefined;
  closed: boolean;
}

/** setTimeout's largest delay; a later deadline is re-checked then and rescheduled. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** After a failed re-check (store unreachable), when to try again. */
const RETRY_AFTER_FAILURE_MS = 1_000;

/**
 * Closes sockets when their session ends, without polling sessions: a socket is re-checked
 * when a session-end notice names its user (and its session, or every session), and once at its
 * session's deadline, when the session has expired unless it was used meanwhile (then the new
 * deadline is watched). So a logout, revocation or rotation closes it within the notice's
 * delivery time plus one store read, and expiry within its deadline plus `expiryGraceMs` and one read.
 */
export class SessionSockets {
  private readonly byUser = new Map<string, Set<Watch>>();

  constructor(
    private readonly clock: () => number = Date.now,
    /** Slack after a deadline, so the store has expired the session when it is read. */
    private readonly expiryGraceMs = 20,
  ) {}

  /** Watches `socket` until it is closed or `unwatch` (the answer) is called; `deadline` as recheck() gives it. */
  watch(socket: WatchedSocket, deadline: number): () => void {
    const watch: Watch = { socket, timer: undefined, closed: false };
    let sockets = this.byUser.get(socket.userId);
    if (!sockets) this.byUser.set(socket.userId, (sockets = new Set()));
    sockets.add(watch);
    this.schedule(watch, deadline);
    return () => this.unwatch(watch);
  }

  /** Re-checks the sockets a notice names; those whose session is over are closed. */
  onNotice(notice: SessionEndNotice): void {
    const sockets = this.byUser.get(notice.userId);
    if (!sockets) return;
    for (const watch of sockets) {
      const { handle } = watch.socket;
      if (notice.handles === 'all' || (handle !== null && notice.handles.includes(handle))) void this.check(watch, 'session ended');
    }
  }

  /** Stops every timer (application shutdown). */
  clear(): void {
    for (const sockets of this.byUser.values()) for (const watch of sockets) this.unwatch(watch);
  }

  get size(): number {
    let count = 0;
    for (const sockets of this.byUser.values()) count += sockets.size;
    return count;
  }

  private schedule(watch: Watch, at: number): void {
    clearTimeout(watch.timer);
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.clock()) + this.expiryGraceMs);
    watch.timer = setTimeout(() => void this.check(watch, 'session expired'), delay);
    // An open socket keeps the process alive; its timer need not.
    watch.timer.unref();
  }

  private async check(watch: Watch, reason: string): Promise<void> {
    if (watch.closed) return;
    let deadline: number | null;
    try {
      deadline = await watch.socket.recheck();
    } catch {
      // The store cannot tell: the session may be fine, so keep the socket and ask again soon.
      if (!watch.closed) this.schedule(watch, this.clock() + RETRY_AFTER_FAILURE_MS);
      return;
    }
    if (watch.closed) return;
    if (deadline !== null) {
      this.schedule(watch, deadline);
      return;
    }
    this.unwatch(watch);
    watch.socket.close(reason);
  }

  private unwatch(watch: Watch): void {
    watch.closed = true;
    clearTimeout(watch.timer);
    const sockets = this.byUser.get(watch.socket.userId);
    sockets?.delete(watch);
    if (sockets?.size === 0) this.byUser.delete(watch.socket.userId);
  }
}
