import type { AuthEvent } from './auth-events.js';

/**
 * "These sessions of this user have ended, or may have": what one app instance tells every
 * instance (itself included) when a logout, revocation, rotation, eviction or re-login ends a
 * session, so that each can close the sockets that depended on it (SocketSessions). `'all'`
 * means any session of the user: each instance then checks its sockets of that user against the
 * store, and only those whose session is gone are closed.
 */
export interface SessionEndNotice {
  userId: string;
  /** Public session handles (as in the session list, never tokens), or every session of the user. */
  handles: string[] | 'all';
}

export type SessionEndListener = (notice: SessionEndNotice) => void;

/**
 * Carries notices between the app's instances: Redis pub/sub for the Redis store, in-process
 * for the memory store (one instance by nature). A notice is a hint to re-check, never proof:
 * a lost one costs latency (the socket still dies at its next message or at its session's
 * deadline), a duplicate costs one store read per socket of that user.
 */
export interface SessionEndChannel {
  /** Sends a notice to every subscribed instance; never throws, never waits for delivery. */
  publish(notice: SessionEndNotice): void;
  /** Delivers notices to `listener` from now on; resolves once notices are being received. */
  subscribe(listener: SessionEndListener): Promise<void>;
  close(): Promise<void>;
}

/** The notice an auth event stands for; null for events that end no session. */
export function sessionEndNoticeOf(event: AuthEvent): SessionEndNotice | null {
  switch (event.type) {
    case 'logout':
    case 'session.rotated':
      return event.userId !== null && event.sessionId !== null ? { userId: event.userId, handles: [event.sessionId] } : null;
    case 'session.revoked':
      // 'all-but-current' ends every session but the caller's, which is rotated away too.
      return { userId: event.userId, handles: Array.isArray(event.sessionIds) ? event.sessionIds : 'all' };
    case 'session.evicted':
      return { userId: event.userId, handles: event.sessionIds };
    case 'login.succeeded':
      // A re-login replaces the user's previous session on this device, whose handle the event does not name.
      return { userId: event.userId, handles: 'all' };
    default:
      return null;
  }
}

/** Parses a notice received from another instance; null for anything that is not one. */
export function parseSessionEndNotice(text: string): SessionEndNotice | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { userId, handles } = value as Record<string, unknown>;
  if (typeof userId !== 'string') return null;
  if (handles === 'all') return { userId, handles };
  if (Array.isArray(handles) && handles.every((handle) => typeof handle === 'string')) return { userId, handles: handles as string[] };
  return null;
}

/** The memory store's channel: the notices of one process, delivered synchronously. */
export class InProcessSessionEndChannel implements SessionEndChannel {
  private readonly listeners = new Set<SessionEndListener>();

  publish(notice: SessionEndNotice): void {
    for (const listener of this.listeners) listener(notice);
  }

  subscribe(listener: SessionEndListener): Promise<void> {
    this.listeners.add(listener);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }
}
