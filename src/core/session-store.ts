import type { SessionRef, UserRef } from './session-token.js';

/**
 * A session as a store keeps it. Data values are JSON text: stores move strings and never
 * interpret them, so a custom store needs no knowledge of what an app puts in its sessions.
 * Times are milliseconds since the epoch.
 */
export interface SessionRecord {
  /** Public, random handle for listing and revoking; never the token or its digest. */
  handle: string;
  /** Owner once logged in; null for an anonymous session that only holds data. */
  userId: string | null;
  /** The AuthUser as JSON text, or null while anonymous. */
  user: string | null;
  createdAt: number;
  /** Last time the idle expiry was slid forward (throttled, so at most `touchInterval` old). */
  lastSeenAt: number;
  /** Hard deadline: no activity keeps the session alive past it. */
  absoluteExpiresAt: number;
  userAgent: string | null;
  ip: string | null;
  data: Record<string, string>;
  /** The current refresh token of this session's token family (jwt/hybrid mode); absent or null otherwise. */
  refresh?: RefreshState | null;
  /** When the user last proved their password on this session (login, `confirmPassword`); absent or null if never. */
  passwordProof?: PasswordProof | null;
}

/** The last password proof of a session: when, and under which login name (to check a password again). */
export interface PasswordProof {
  at: number;
  /** The username given at login; null when the app logged the user in some other way. */
  username: string | null;
}

/** A refresh token as stored: its SHA-256 digest, never the token. */
export interface RefreshState {
  digest: string;
  expiresAt: number;
}

export type RefreshRotation =
  | { outcome: 'rotated'; record: SessionRecord }
  /**
   * Within the grace window, the token rotated just before (a second tab refreshing at the same
   * time): nothing changes, and the answer carries the successor that rotation stored, sealed to
   * the presented token, so that both callers end up with the same, current, refresh token.
   */
  | { outcome: 'replayed'; record: SessionRecord; sealedNext: string }
  /** The token was the family's current one once but has been used: the family is destroyed. */
  | { outcome: 'reused' }
  /** Unknown, expired, or of a session that no longer exists. */
  | { outcome: 'invalid' };

/** A rotation with a reuse grace window (`jwt.refreshReuseGrace`). */
export interface RefreshGrace {
  /** How long the consumed token is answered 'replayed' instead of 'reused'; 0 is off. */
  windowMs: number;
  /** The successor (`next`) sealed so that only the holder of the presented token can open it; opaque to the store. */
  sealedNext: string;
}

/**
 * Which idle rule a read holds the session to. Each credential has its own: in hybrid mode the
 * session's key lives as long as its refresh token, so the key's TTL alone cannot end an idle cookie.
 * The rule is judged on the stored values as they were before this read touches them.
 */
export type IdleRule =
  /** A session cookie: alive while `lastSeenAt + idleTimeoutMs > now`. */
  | 'last-seen'
  /** A bearer access token: alive while the family's refresh token is unexpired (`refresh.expiresAt > now`). */
  | 'refresh-token';

/** How a read checks and slides the idle expiry. */
export interface TouchPolicy {
  now: number;
  /**
   * The `last-seen` rule's timeout, and how far a slide moves the expiry from now (never
   * shortening it, never past the absolute deadline).
   */
  idleTimeoutMs: number;
  /** Slide only when `lastSeenAt` is at least this old, so a busy session is not rewritten on every request. */
  touchIntervalMs: number;
  /** Default: `'last-seen'`. A session that fails its rule reads as null and is left as it is, for the other credential. */
  idleRule?: IdleRule;
  /**
   * Hybrid mode, on bearer reads and refreshes: the cookie's idle timeout. `lastSeenAt` (the
   * cookie's activity) then moves only while `lastSeenAt + cookieIdleTimeoutMs > now`, so token
   * use keeps a live cookie alive but never revives one that has idled out. Absent: it always moves.
   */
  cookieIdleTimeoutMs?: number;
}

/** A partial write: only what a request changed. */
export interface SessionPatch {
  /** Data keys to set (JSON text) or, when null, to delete. */
  data?: Record<string, string | null>;
  /** Replaces the stored AuthUser (JSON text), e.g. after a role change. */
  user?: string;
  /** Replaces the current refresh token (after a rotation that reissues tokens). */
  refresh?: RefreshState;
  /** Replaces the last password proof (`confirmPassword`). */
  passwordProof?: PasswordProof;
}

/**
 * Where sessions live. The contract, which every implementation keeps and the shared contract
 * suite checks:
 *
 * - Missing and expired are the same thing: "not found" (null, false, 0), never an error.
 * - Removing something that is not there does nothing and does not throw.
 * - A method rejects only when the store itself fails (network, timeout): then with
 *   SessionStoreUnavailableError, so the caller can answer 503 instead of 401. The one other
 *   rejection: SessionDataTooLargeError from `create` and `update` (see SESSION_DATA_LIMITS).
 * - Nothing lives forever: every session expires at its idle or its absolute deadline.
 * - A session that belongs to a user is in that user's index, and leaves it, in the same atomic
 *   step as it is created or destroyed.
 *
 * The DI token has the same name as the interface: `@Inject(SessionStore)`.
 */
export interface SessionStore {
  /**
   * Reads a session and, in the same round trip, slides its idle expiry when the last slide
   * is at least `touchIntervalMs` old. A slide never shortens the expiry and never passes the
   * absolute deadline. Null when missing, expired, or failing `touch.idleRule` (checked before
   * the slide, in the same atomic step).
   */
  read(ref: SessionRef, touch: TouchPolicy): Promise<SessionRecord | null>;

  /**
   * Stores a new session that expires `ttlMs` from now, adding it to its user's index if it has
   * one. Rejects with SessionDataTooLargeError, storing nothing, when `record.data` is past
   * SESSION_DATA_LIMITS. In the same atomic step as the write, a user session first destroys
   * `options.replaces` when that is a session of the same user (a re-login), then applies
   * `options.sessionsPerUser` to the user's live sessions (expired, destroyed and revoked ones do
   * not count; a store may count per slot tag, as the Redis store does): with `'evict-oldest'`, the oldest (by creation) beyond
   * the limit are destroyed, refresh family and all, and their handles are reported in
   * `evicted`; with `'refuse'`, nothing is stored and the answer is 'refused'. Anonymous
   * sessions are never refused and evict nothing. Default options: DEFAULT_CREATE_OPTIONS.
   */
  create(ref: SessionRef, record: SessionRecord, ttlMs: number, options?: CreateOptions): Promise<CreateResult>;

  /**
   * Writes only the fields in `patch`, leaving every other field as it is, so concurrent
   * requests that change different keys lose nothing. Returns false and writes nothing when
   * the session no longer exists: a write never brings a destroyed session back. Rejects with
   * SessionDataTooLargeError, writing nothing, when the data would pass SESSION_DATA_LIMITS; the
   * check and the write are one atomic step, so concurrent updates cannot pass the caps together.
   */
  update(ref: SessionRef, patch: SessionPatch): Promise<boolean>;

  /**
   * Moves a session to a new token atomically, keeping its data, handle and deadlines: the old
   * ref is dead the moment the new one works. Both refs have the same slot tag. False when the
   * session is gone.
   */
  rename(from: SessionRef, to: SessionRef): Promise<boolean>;

  /**
   * Consumes a refresh token atomically (RFC 9700 §4.14): when `presentedDigest` is the
   * session's current, unexpired refresh token, it is replaced by `next` and the session's
   * expiry slides as in `read`: 'rotated' (the presented token's own expiry is the idle rule
   * here, so `touch.idleRule` is not used). When it is one the session already consumed, the whole
   * session is destroyed: 'reused'. Two concurrent calls with one token: at most one 'rotated'.
   * With `grace`, a rotation also remembers the consumed digest, `next` and `grace.sealedNext`
   * until `grace.windowMs` from now; while `next` is still the current token, presenting that
   * consumed digest again answers 'replayed' (and changes nothing) instead of 'reused'.
   */
  rotateRefreshToken(
    ref: SessionRef,
    presentedDigest: string,
    next: RefreshState,
    touch: TouchPolicy,
    grace?: RefreshGrace,
  ): Promise<RefreshRotation>;

  /**
   * Ends a token family by its refresh token (logout without a live access token): destroys the
   * session and its index entry when `presentedDigest` is its current refresh token or one it
   * already consumed (someone else refreshed with it: a logout must end the family they hold
   * too), comparing and destroying in one atomic step. Never slides the expiry nor changes
   * `lastSeenAt`, so a forged token cannot keep a session alive. The record as it was (its
   * `refresh` tells a consumed token from the current one), or null (missing session, or a
   * token it never had).
   */
  destroyByRefreshToken(ref: SessionRef, presentedDigest: string): Promise<SessionRecord | null>;

  /** Destroys a session and removes it from its user's index. */
  destroy(ref: SessionRef): Promise<void>;

  /**
   * A user's live sessions under the slot tag `user.tag`: at most MAX_LISTED_SESSIONS, the most
   * recently created, so listing is bounded work however many a user has. Entries whose session
   * has expired are pruned on the way. (The manager asks once per tag a user's sessions may have:
   * see UserSlotTags.)
   */
  listByUser(user: UserRef): Promise<SessionRecord[]>;

  /** Destroys one session of a user (under `user.tag`) by its public handle. False when there is no such session. */
  destroyByHandle(user: UserRef, handle: string): Promise<boolean>;

  /**
   * Destroys every session of a user under `user.tag`, except the one with `keepHandle`. Returns how many went.
   * Every session of the user that exists when it is called ends, also one the user's index no
   * longer names (a Redis index key evicted or lost in a failover; such a session is not counted,
   * and is not kept either). Works in bounded batches, never in one unbounded step.
   */
  destroyByUser(user: UserRef, keepHandle?: string): Promise<number>;

  /**
   * Optional: checks that the store answers (health checks), bounded like every operation.
   * Resolves when it does; rejects with SessionStoreUnavailableError when it does not.
   */
  ping?(): Promise<void>;
}

export const SessionStore = Symbol('SessionStore');

/**
 * How many sessions one user may hold, and what a login past that does: `'evict-oldest'` ends
 * the user's oldest sessions (by creation), so one account cannot fill a store; `'refuse'`
 * refuses the new one and keeps the others.
 */
export interface SessionsPerUserLimit {
  limit: number;
  onLimit: 'evict-oldest' | 'refuse';
}

export interface CreateOptions {
  sessionsPerUser: SessionsPerUserLimit;
  /** The session this one replaces (the one presented at login): destroyed first, so it does not count against the limit. */
  replaces?: SessionRef;
}

/** What `create` did: stored the session (with the handles of the user's sessions it evicted), or refused it at the limit. */
export type CreateResult = { outcome: 'created'; evicted: string[] } | { outcome: 'refused' };

/** The `maxSessionsPerUser` option's default. */
export const DEFAULT_SESSIONS_PER_USER: SessionsPerUserLimit = { limit: 100, onLimit: 'evict-oldest' };

export const DEFAULT_CREATE_OPTIONS: CreateOptions = { sessionsPerUser: DEFAULT_SESSIONS_PER_USER };

/** listByUser returns at most this many sessions, the most recently created. */
export const MAX_LISTED_SESSIONS = 50;

/**
 * Caps on one session's data, which every store enforces atomically where it writes (`create`,
 * `update`), so concurrent writes cannot pass them together. They bound what one client can make
 * the store hold and every request read back.
 */
export const SESSION_DATA_LIMITS = { maxKeys: 1000, maxTotalBytes: 1024 * 1024 } as const;

/** What session data weighs against SESSION_DATA_LIMITS: its keys, and the UTF-8 bytes of keys and values. */
export function measureSessionData(data: Readonly<Record<string, string>>): { keys: number; bytes: number } {
  let keys = 0;
  let bytes = 0;
  for (const [name, value] of Object.entries(data)) {
    keys++;
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  return { keys, bytes };
}

export function exceedsSessionDataLimits(size: { keys: number; bytes: number }): boolean {
  return size.keys > SESSION_DATA_LIMITS.maxKeys || size.bytes > SESSION_DATA_LIMITS.maxTotalBytes;
}

/** How many consumed refresh tokens a session remembers to recognise reuse (rotateRefreshToken). */
export const REMEMBERED_REFRESH_TOKENS = 20;

/** Stores that hold connections implement this; the module calls it on shutdown for stores it built. */
export interface ClosableSessionStore extends SessionStore {
  close(): Promise<void>;
}

export function isClosable(store: SessionStore): store is ClosableSessionStore {
  return typeof (store as Partial<ClosableSessionStore>).close === 'function';
}
