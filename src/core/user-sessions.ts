import type { AuthEventListener } from './auth-events.js';
import { MAX_LISTED_SESSIONS, type SessionRecord, type SessionStore } from './session-store.js';
import type { UserSlotTags } from './session-token.js';

/** One entry of a user's session list. Never carries the token or anything derived from it. */
export interface SessionInfo {
  id: string;
  current: boolean;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
}

/**
 * A user's sessions as a whole: list them, end one, end all (or all but one). A user's sessions
 * may sit under several slot tags while a secret rotation is under way (see UserSlotTags), so
 * each operation asks the store once per tag; with one secret that is one call.
 */
export class UserSessions {
  constructor(
    private readonly store: SessionStore,
    private readonly tags: UserSlotTags,
    private readonly idleTimeoutMs: number,
    private readonly emit: AuthEventListener,
  ) {}

  /** Newest activity first, at most MAX_LISTED_SESSIONS; `currentHandle` is flagged. */
  async list(userId: string, currentHandle?: string | null): Promise<SessionInfo[]> {
    const perTag = await Promise.all(this.tags.all(userId).map((user) => this.store.listByUser(user)));
    return perTag
      .flat()
      .map((record) => this.describe(record, record.handle === currentHandle))
      .sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime())
      .slice(0, MAX_LISTED_SESSIONS);
  }

  async revoke(userId: string, handle: string): Promise<boolean> {
    let revoked = false;
    for (const user of this.tags.all(userId)) {
      if (await this.store.destroyByHandle(user, handle)) {
        revoked = true;
        break;
      }
    }
    if (revoked) this.emit({ type: 'session.revoked', userId, sessionIds: [handle], count: 1 });
    return revoked;
  }

  async revokeAll(userId: string, options: { exceptHandle?: string } = {}): Promise<number> {
    let count = 0;
    for (const user of this.tags.all(userId)) count += await this.store.destroyByUser(user, options.exceptHandle);
    this.emit({ type: 'session.revoked', userId, sessionIds: options.exceptHandle ? 'all-but-current' : 'all', count });
    return count;
  }

  private describe(record: SessionRecord, current: boolean): SessionInfo {
    return {
      id: record.handle,
      current,
      createdAt: new Date(record.createdAt),
      lastSeenAt: new Date(record.lastSeenAt),
      expiresAt: new Date(expiryOf(record, this.idleTimeoutMs)),
      userAgent: record.userAgent,
      ip: record.ip,
    };
  }
}

/**
 * When a session ends if nothing happens: its cookie's idle deadline or, with a token family,
 * its refresh token's expiry, whichever is later (either credential keeps it alive), never past
 * the absolute deadline.
 */
function expiryOf(record: SessionRecord, idleTimeoutMs: number): number {
  const idle = record.lastSeenAt + idleTimeoutMs;
  const alive = record.refresh ? Math.max(idle, record.refresh.expiresAt) : idle;
  return Math.min(alive, record.absoluteExpiresAt);
}
