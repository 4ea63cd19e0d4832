import type { AuthEventListener } from './auth-events.js';
import { toSessionUser, userIdOf, type AuthUser } from './auth-user.js';
import { InvalidSessionDataError, InvalidSessionError, SessionConfigurationError, SessionLimitReachedError } from './errors.js';
import type { JwsEngine } from './jwt/jws.js';
import { TokenFamilies } from './jwt/token-families.js';
import type { TokenPair } from './jwt/token-issuer.js';
import { PasswordProofs } from './fresh-login.js';
import { Session } from './session.js';
import { SessionLock, type HeldLock, type LockTiming, type SessionLockOptions } from './session-lock.js';
import { isLockable } from './session-locks.js';
import { LockedSections } from './locked-sections.js';
import { SessionCookie, type RequestFacts, type ResponseSink } from './session-cookie.js';
import type { ResolvedSessionOptions } from './session-options.js';
import {
  newSessionToken,
  randomSlotTag,
  randomToken,
  refOf,
  SessionCookieCodec,
  UserSlotTags,
  type SessionRef,
} from './session-token.js';
import { UserSessions, type SessionInfo } from './user-sessions.js';
import { VerifiedCookies } from './verified-cookies.js';
import {
  type CreateOptions,
  type IdleRule,
  type SessionRecord,
  type SessionStore,
  type TouchPolicy,
} from './session-store.js';

export type { SessionInfo } from './user-sessions.js';

const MAX_USER_AGENT_LENGTH = 256;
/**
 * A session's public handle (`session.id`): 72 random bits name it among its user's sessions and
 * in events. Never a credential (revoking by handle needs the user), so short keeps each stored session small.
 */
const SESSION_HANDLE_BYTES = 9;

/**
 * The session lifecycle, free of HTTP frameworks: open a request's session from its cookie or
 * bearer token, commit what the request changed, log in (with a new session), rotate, refresh,
 * log out, and manage a user's sessions. In jwt and hybrid mode a session is also the family of
 * its refresh tokens. Store failures propagate as SessionStoreUnavailableError.
 */
export class SessionManager {
  readonly cookie: SessionCookie;
  /** Null in session mode. */
  readonly families: TokenFamilies | null;
  /** Fresh-login checks and password re-confirmation on the sessions' records. */
  readonly passwordProofs: PasswordProofs;
  private readonly codec: SessionCookieCodec;
  private readonly cookies: VerifiedCookies;
  private readonly tags: UserSlotTags;
  private readonly users: UserSessions;
  private readonly usesCookie: boolean;
  /** Null when the store has no SessionLocks. */
  private readonly locked: LockedSections | null;

  private readonly clock: () => number;
  private readonly emit: AuthEventListener;

  constructor(
    private readonly options: ResolvedSessionOptions,
    private readonly store: SessionStore,
    collaborators: { clock?: () => number; engine?: JwsEngine; emit?: AuthEventListener; lockTiming?: LockTiming } = {},
  ) {
    const { engine } = collaborators;
    const clock = (this.clock = collaborators.clock ?? Date.now);
    this.emit = collaborators.emit ?? (() => undefined);
    this.cookie = new SessionCookie(options.cookie);
    this.codec = new SessionCookieCodec(options.secrets);
    this.cookies = new VerifiedCookies(this.codec);
    this.tags = new UserSlotTags(options.secrets);
    this.users = new UserSessions(store, this.tags, options.idleTimeoutMs, this.emit);
    this.usesCookie = options.mode !== 'jwt';
    this.locked = isLockable(store)
      ? new LockedSections(new SessionLock(store, collaborators.lockTiming), {
          reload: (ref, via) => store.read(ref, this.touch(via === 'bearer' ? 'refresh-token' : 'last-seen')),
          commit: (session) => this.commit(session),
          emit: this.emit,
        })
      : null;
    const { jwt } = options;
    if (jwt && !engine) {
      throw new SessionConfigurationError('mode', `is ${options.mode} but no JWS engine was given`, 'Create the manager through SessionModule.');
    }
    this.families = jwt && engine ? new TokenFamilies({ ...options, jwt }, store, this.cookie, engine, clock, this.emit) : null;
    this.passwordProofs = new PasswordProofs(store, options.validateUser, options.userFields, clock, (session) => this.load(session));
  }

  /**
   * The request's session. A missing, forged, expired or ambiguous credential gives an empty
   * session with `rejection` set; only a store failure throws. One store round trip at most.
   * A bearer token is looked at first (jwt and hybrid mode), then the session cookie (session
   * and hybrid mode). Tokens are never read from the URL.
   */
  async open(request: RequestFacts, response: ResponseSink): Promise<Session> {
    const session = new Session(request, response);
    // A Bearer header is an explicit choice of the client; a cookie may just be along for the
    // ride (hybrid apps), so the header wins. Other schemes (Basic from a proxy) are ignored.
    const authorization = request.authorization;
    if (this.families && authorization !== undefined && /^bearer /i.test(authorization)) {
      await this.families.openBearer(session, authorization);
      return session;
    }
    const lookup = this.usesCookie ? this.cookie.read(request) : ({ kind: 'absent' } as const);
    if (lookup.kind === 'duplicate') session.rejection = 'duplicate-cookie';
    else if (lookup.kind === 'present') await this.openCookie(session, lookup.value);
    return session;
  }

  /** Writes the keys this request changed. An anonymous visitor's first write creates their session. */
  async commit(session: Session): Promise<void> {
    if (session.changes.size === 0) return;
    if (session.ref === null) {
      // Only deletions on a visitor with no session: nothing to store, so no session is created.
      if (Object.keys(session.mergedData()).length === 0) session.changes.clear();
      // Without a cookie there is nowhere to keep an anonymous session.
      else if (!this.usesCookie) throw new InvalidSessionError('not-found');
      else await this.create(session, null);
      return;
    }
    // False means the session was destroyed meanwhile (logout elsewhere): the write is dropped
    // on purpose rather than bringing the session back.
    await this.store.update(session.ref, { data: Object.fromEntries(session.changes) });
    session.changes.clear();
  }

  /**
   * Logs a user in on a brand-new session; the one presented before login is destroyed, so a
   * planted session ID is worthless (session fixation, ASVS 7.2.4). Session data carries over
   * from an anonymous session or one of the same user, never from another user's.
   * In jwt and hybrid mode the answer carries an access and a refresh token.
   */
  async login(session: Session, given: AuthUser): Promise<TokenPair | null> {
    const user = toSessionUser(given, this.options.userFields);
    const previous = session.ref;
    // Data of another user's session must not follow a different login (step-up flags, say).
    const previousOwner = session.record?.userId ?? null;
    if (previousOwner !== null && previousOwner !== userIdOf(user)) session.adopt(null, null);
    // Create first: if the store fails midway, the visitor keeps the session they had. A session
    // of the same user is replaced in the create's atomic step, so a re-login is not counted
    // against maxSessionsPerUser (and not refused by it).
    const replaces = previous !== null && previousOwner === userIdOf(user) ? previous : undefined;
    const tokens = await this.create(session, user, replaces);
    if (previous !== null) await this.store.destroy(previous);
    this.emit({ type: 'login.succeeded', userId: userIdOf(user), sessionId: session.id, ip: session.request.ip ?? null });
    return tokens;
  }

  /**
   * Moves the session to a new ID and kills the old one, keeping its data, e.g. after a
   * privilege change (ASVS 7.2.4). Pass `user` to store the user's new roles at the same time.
   * In jwt and hybrid mode the old tokens die with the old ID, and new ones are returned.
   */
  async rotate(session: Session, given?: AuthUser): Promise<TokenPair | null> {
    await this.load(session);
    const { ref, record } = session;
    if (ref === null || record === null) throw new InvalidSessionError('not-found');
    const user = given === undefined ? undefined : toSessionUser(given, this.options.userFields);
    if (user !== undefined) {
      if (userIdOf(user) !== record.userId) {
        throw new InvalidSessionDataError('rotate() was given a different user: log the new user in with login() instead.');
      }
    }
    const token = newSessionToken(ref.tag);
    const next = refOf(token);
    if (!(await this.store.rename(ref, next))) {
      session.adopt(null, null);
      throw new InvalidSessionError('not-found');
    }
    const updated = { ...record, user: user !== undefined ? JSON.stringify(user) : record.user };
    const refresh = this.families?.mint(next, record.absoluteExpiresAt);
    if (user !== undefined || refresh) {
      await this.store.update(next, { ...(user !== undefined && { user: updated.user! }), ...(refresh && { refresh: refresh.state }) });
    }
    // A bearer request renews the cookie too when it carries this session's cookie (hybrid mode,
    // a browser using both): the rename has just killed the cookie's old ID.
    const cookie = this.usesCookie && (session.via !== 'bearer' || this.carriesCookieOf(session.request, ref));
    session.adopt(next, updated, { token: cookie ? token : null, via: session.via, keepChanges: true });
    this.emit({ type: 'session.rotated', userId: record.userId, sessionId: record.handle });
    if (cookie) this.issueCookie(session);
    return refresh ? this.families!.issue(session, refresh) : null;
  }

  /**
   * Exchanges a refresh token for a new pair (RFC 9700 §4.14): the presented token is consumed
   * atomically; presenting a consumed one destroys the whole family and is refused.
   */
  async refresh(request: RequestFacts, response: ResponseSink, bodyToken: unknown): Promise<TokenPair> {
    // Session mode issues no refresh tokens, so none can be valid.
    if (this.families === null) throw new InvalidSessionError('not-found');
    return this.families.refresh(request, response, bodyToken);
  }

  /**
   * Reads the stored record of a session opened without one (a stateless bearer token), for
   * operations that need it. Throws when the session no longer exists.
   */
  async load(session: Session): Promise<void> {
    if (session.ref === null || session.record !== null) return;
    const record = await this.store.read(session.ref, this.touch(session.via === 'bearer' ? 'refresh-token' : 'last-seen'));
    if (record === null) throw new InvalidSessionError('not-found');
    session.adopt(session.ref, record, { via: session.via, keepChanges: true });
  }

  /**
   * Destroys the session server-side, its tokens with it, and clears its cookies. A client whose
   * access token has expired names its token family with its refresh token: the refresh cookie
   * with that transport (its path covers logout), else `refreshToken` from the body; a family a
   * refresh token names ends even when a cookie opened another session.
   */
  async logout(session: Session, refreshToken?: unknown): Promise<void> {
    const user = session.authenticatedUser;
    const userId = user ? userIdOf(user) : null;
    const sessionId = session.id;
    if (session.ref !== null) {
      await this.store.destroy(session.ref);
      this.emit({ type: 'logout', userId, sessionId, ip: session.request.ip ?? null });
    }
    // A refresh token presented (in the body, or the refresh cookie) may name another family than
    // the session the cookie opened: in hybrid mode the login's cookie idles out and an anonymous
    // one comes along. That family ends too; for the session just destroyed nothing is left to find.
    if (this.families) {
      const ended = await this.families.revoke(session.request, refreshToken);
      if (ended) this.emit({ type: 'logout', userId: ended.userId, sessionId: ended.handle, ip: session.request.ip ?? null });
    }
    session.adopt(null, null);
    if (this.usesCookie) session.response.setCookie(this.cookie.serializeCleared(session.request));
    this.families?.clearCookie(session);
    session.response.preventCaching();
  }

  /**
   * Runs `fn` under the session's lock `name`, for a read-modify-write of its data that
   * concurrent requests must not interleave: `fn` sees the data as stored once the lock is held,
   * and its changes are saved before the lock is released (see LockedSections).
   */
  async withLock<T>(
    session: Session,
    name: string,
    fn: (session: Session, lease: HeldLock) => T | Promise<T>,
    options: SessionLockOptions = {},
  ): Promise<T> {
    if (this.locked === null) {
      throw new SessionConfigurationError('store', 'does not implement SessionLocks', 'Use the memory or Redis store, or implement acquireLock, renewLock and releaseLock.');
    }
    return this.locked.run(session, name, fn, options);
  }

  listSessions(userId: string, currentHandle?: string | null): Promise<SessionInfo[]> {
    return this.users.list(userId, currentHandle);
  }

  revokeSession(userId: string, handle: string): Promise<boolean> {
    return this.users.revoke(userId, handle);
  }

  revokeAllSessions(userId: string, options: { exceptHandle?: string } = {}): Promise<number> {
    return this.users.revokeAll(userId, options);
  }

  /** Whether the request carries a valid session cookie naming `ref`. */
  private carriesCookieOf(request: RequestFacts, ref: SessionRef): boolean {
    const lookup = this.cookie.read(request);
    if (lookup.kind !== 'present') return false;
    try {
      const named = this.cookies.verify(lookup.value).ref;
      return named.tag === ref.tag && named.digest === ref.digest;
    } catch (error) {
      if (error instanceof InvalidSessionError) return false;
      throw error;
    }
  }

  private async openCookie(session: Session, value: string): Promise<void> {
    let token, ref;
    try {
      ({ token, ref } = this.cookies.verify(value));
    } catch (error) {
      if (!(error instanceof InvalidSessionError)) throw error;
      session.rejection = error.reason;
      return;
    }
    const touch = this.touch('last-seen');
    const now = touch.now;
    const record = await this.store.read(ref, touch);
    if (record === null) {
      session.rejection = 'not-found';
    } else if (record.absoluteExpiresAt <= now || record.lastSeenAt + this.options.idleTimeoutMs <= now) {
      // The store should already have expired it; this guards stores whose expiry is lazy.
      session.rejection = 'expired';
    } else {
      session.adopt(ref, record, { token, via: 'cookie' });
    }
  }

  /**
   * Stores a new session for the request, under `maxSessionsPerUser`: a refusal throws
   * SessionLimitReachedError (nothing changes), an eviction is reported as `session.evicted`.
   */
  private async create(session: Session, user: AuthUser | null, replaces?: SessionRef): Promise<TokenPair | null> {
    const now = this.clock();
    const userId = user ? userIdOf(user) : null;
    const token = newSessionToken(userId !== null ? this.tags.current(userId).tag : randomSlotTag());
    const ref = refOf(token);
    const { userAgent, ip } = session.request;
    const absoluteExpiresAt = now + this.options.absoluteTimeoutMs;
    const refresh = user && this.families ? this.families.mint(ref, absoluteExpiresAt) : null;
    const record: SessionRecord = {
      handle: randomToken(SESSION_HANDLE_BYTES),
      userId,
      user: user ? JSON.stringify(user) : null,
      createdAt: now,
      lastSeenAt: now,
      absoluteExpiresAt,
      userAgent: userAgent ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : null,
      ip: ip ?? null,
      data: session.mergedData(),
      refresh: refresh?.state ?? null,
      // A login is a fresh authentication; the login name lets confirmPassword check the password again.
      passwordProof: user ? { at: now, username: session.loginName } : null,
    };
    const options: CreateOptions = { sessionsPerUser: this.options.maxSessionsPerUser, ...(replaces && { replaces }) };
    const created = await this.store.create(ref, record, refresh ? this.families!.idleMs : this.options.idleTimeoutMs, options);
    if (created.outcome === 'refused') {
      const { limit } = this.options.maxSessionsPerUser;
      this.emit({ type: 'login.refused-limit', userId: userId!, limit, ip: ip ?? null });
      throw new SessionLimitReachedError(limit);
    }
    if (created.evicted.length > 0) {
      this.emit({ type: 'session.evicted', userId: userId!, sessionIds: created.evicted, count: created.evicted.length });
    }
    const cookie = this.usesCookie;
    session.adopt(ref, record, { token: cookie ? token : null, via: cookie ? 'cookie' : 'bearer' });
    if (cookie) this.issueCookie(session);
    return refresh ? this.families!.issue(session, refresh) : null;
  }

  /**
   * A read under the credential's idle rule. The slide is the cookie's idle timeout in every
   * mode: a bearer read needs no more, as the key already lives as long as its refresh token.
   */
  private touch(idleRule: IdleRule): TouchPolicy {
    const { idleTimeoutMs, touchIntervalMs, mode } = this.options;
    // A bearer read may keep a hybrid cookie alive, never revive it (TouchPolicy.cookieIdleTimeoutMs).
    const cookieIdleTimeoutMs = idleRule === 'refresh-token' && mode === 'hybrid' ? idleTimeoutMs : undefined;
    return { now: this.clock(), idleTimeoutMs, touchIntervalMs, idleRule, cookieIdleTimeoutMs };
  }

  private issueCookie(session: Session): void {
    if (session.token === null) return;
    const maxAgeSeconds = Math.floor(this.options.absoluteTimeoutMs / 1000);
    session.response.setCookie(this.cookie.serialize(session.request, this.codec.encode(session.token), maxAgeSeconds));
    session.response.preventCaching();
  }
}
