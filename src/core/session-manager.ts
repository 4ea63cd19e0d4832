import { isAuthUser, type AuthUser } from './auth-user.js';
import { InvalidSessionDataError, InvalidSessionError } from './errors.js';
import { Session } from './session.js';
import { SessionCookie, type RequestFacts, type ResponseSink } from './session-cookie.js';
import type { ResolvedSessionOptions } from './session-options.js';
import {
  newSessionToken,
  randomSlotTag,
  randomToken,
  refOf,
  SessionCookieCodec,
  slotTagForUser,
} from './session-token.js';
import type { SessionRecord, SessionStore } from '../stores/session-store.interface.js';

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

const MAX_USER_AGENT_LENGTH = 256;

/**
 * The session lifecycle, free of HTTP frameworks: open a request's session from its cookie,
 * commit what the request changed, log in (with a new token), rotate, log out, and manage a
 * user's sessions. Store failures propagate as SessionStoreUnavailableError.
 */
export class SessionManager {
  readonly cookie: SessionCookie;
  private readonly codec: SessionCookieCodec;

  constructor(
    private readonly options: ResolvedSessionOptions,
    private readonly store: SessionStore,
    private readonly clock: () => number = Date.now,
  ) {
    this.cookie = new SessionCookie(options.cookie);
    this.codec = new SessionCookieCodec(options.secrets);
  }

  /**
   * The request's session. A missing, forged, expired or ambiguous cookie gives an empty
   * session with `rejection` set; only a store failure throws. One store round trip at most.
   */
  async open(request: RequestFacts, response: ResponseSink): Promise<Session> {
    const session = new Session(request, response);
    const lookup = this.cookie.read(request);
    if (lookup.kind === 'absent') return session;
    if (lookup.kind === 'duplicate') {
      session.rejection = 'duplicate-cookie';
      return session;
    }
    let token;
    try {
      token = this.codec.decode(lookup.value);
    } catch (error) {
      if (!(error instanceof InvalidSessionError)) throw error;
      session.rejection = error.reason;
      return session;
    }
    const now = this.clock();
    const record = await this.store.read(refOf(token), {
      now,
      idleTimeoutMs: this.options.idleTimeoutMs,
      touchIntervalMs: this.options.touchIntervalMs,
    });
    if (record === null) {
      session.rejection = 'not-found';
    } else if (record.absoluteExpiresAt <= now || record.lastSeenAt + this.options.idleTimeoutMs <= now) {
      // The store should already have expired it; this guards stores whose expiry is lazy.
      session.rejection = 'expired';
    } else {
      session.adopt(token, record);
    }
    return session;
  }

  /** Writes the keys this request changed. An anonymous visitor's first write creates their session. */
  async commit(session: Session): Promise<void> {
    if (session.changes.size === 0) return;
    if (session.token === null) {
      // Only deletions on a visitor with no session: nothing to store, so no session is created.
      if (Object.keys(session.mergedData()).length === 0) session.changes.clear();
      else await this.create(session, null);
      return;
    }
    // False means the session was destroyed meanwhile (logout elsewhere): the write is dropped
    // on purpose rather than bringing the session back.
    await this.store.update(refOf(session.token), { data: Object.fromEntries(session.changes) });
    session.changes.clear();
  }

  /**
   * Logs a user in with a brand-new token; the token presented before login is destroyed, so a
   * planted session ID is worthless (session fixation, ASVS 7.2.4). Session data carries over.
   */
  async login(session: Session, user: AuthUser): Promise<void> {
    assertUser(user);
    if (session.token !== null) await this.store.destroy(refOf(session.token));
    await this.create(session, user);
  }

  /**
   * Gives the session a new token and kills the old one, keeping its data, e.g. after a
   * privilege change (ASVS 7.2.4). Pass `user` to store the user's new roles at the same time.
   */
  async rotate(session: Session, user?: AuthUser): Promise<void> {
    const { token, record } = session;
    if (token === null || record === null) throw new InvalidSessionError('not-found');
    if (user !== undefined) {
      assertUser(user);
      if (user.id !== record.userId) {
        throw new InvalidSessionDataError('rotate() was given a different user: log the new user in with login() instead.');
      }
    }
    const next = newSessionToken(token.tag);
    if (!(await this.store.rename(refOf(token), refOf(next)))) {
      session.adopt(null, null);
      throw new InvalidSessionError('not-found');
    }
    const updated = { ...record };
    if (user !== undefined) {
      updated.user = JSON.stringify(user);
      await this.store.update(refOf(next), { user: updated.user });
    }
    session.adopt(next, updated, { keepChanges: true });
    this.issueCookie(session);
  }

  /** Destroys the session server-side and clears the cookie with the attributes it was set with. */
  async logout(session: Session): Promise<void> {
    if (session.token !== null) await this.store.destroy(refOf(session.token));
    session.adopt(null, null);
    session.response.setCookie(this.cookie.serializeCleared(session.request));
    session.response.preventCaching();
  }

  async listSessions(userId: string, currentHandle?: string | null): Promise<SessionInfo[]> {
    const records = await this.store.listByUser(userId);
    return records
      .map((record) => this.describe(record, record.handle === currentHandle))
      .sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
  }

  revokeSession(userId: string, handle: string): Promise<boolean> {
    return this.store.destroyByHandle(userId, handle);
  }

  revokeAllSessions(userId: string, options: { exceptHandle?: string } = {}): Promise<number> {
    return this.store.destroyByUser(userId, options.exceptHandle);
  }

  private async create(session: Session, user: AuthUser | null): Promise<void> {
    const now = this.clock();
    const token = newSessionToken(user ? slotTagForUser(user.id) : randomSlotTag());
    const { userAgent, ip } = session.request;
    const record: SessionRecord = {
      handle: randomToken(16),
      userId: user?.id ?? null,
      user: user ? JSON.stringify(user) : null,
      createdAt: now,
      lastSeenAt: now,
      absoluteExpiresAt: now + this.options.absoluteTimeoutMs,
      userAgent: userAgent ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : null,
      ip: ip ?? null,
      data: session.mergedData(),
    };
    await this.store.create(refOf(token), record, this.options.idleTimeoutMs);
    session.adopt(token, record);
    this.issueCookie(session);
  }

  private issueCookie(session: Session): void {
    if (session.token === null) return;
    const maxAgeSeconds = Math.floor(this.options.absoluteTimeoutMs / 1000);
    session.response.setCookie(this.cookie.serialize(session.request, this.codec.encode(session.token), maxAgeSeconds));
    session.response.preventCaching();
  }

  private describe(record: SessionRecord, current: boolean): SessionInfo {
    return {
      id: record.handle,
      current,
      createdAt: new Date(record.createdAt),
      lastSeenAt: new Date(record.lastSeenAt),
      expiresAt: new Date(Math.min(record.lastSeenAt + this.options.idleTimeoutMs, record.absoluteExpiresAt)),
      userAgent: record.userAgent,
      ip: record.ip,
    };
  }
}

function assertUser(user: AuthUser): void {
  if (!isAuthUser(user)) {
    throw new InvalidSessionDataError('A user must be an object with a non-empty string `id` and optional string[] `roles`.');
  }
}
