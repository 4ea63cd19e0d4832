import type { AuthUser } from './auth-user.js';
import { InvalidSessionDataError, SessionDataTooLargeError, type InvalidSessionReason } from './errors.js';
import type { RequestFacts, ResponseSink } from './session-cookie.js';
import type { SessionRef, SessionToken } from './session-token.js';
import { exceedsSessionDataLimits, measureSessionData, SESSION_DATA_LIMITS, type SessionRecord } from './session-store.js';
import type { DeclaredSessionKey, SessionData, SessionValue, Uninferred } from './session-data.js';

const MAX_KEY_LENGTH = 128;
const MAX_VALUE_BYTES = 64 * 1024;
const KEY_PATTERN = /^[\x21-\x7e]+$/;

export type CredentialKind = 'cookie' | 'bearer';

/**
 * One request's view of its session, as `@CurrentSession()` gives it. Reads come from what was
 * loaded; writes are collected and sent to the store, changed keys only, before the response
 * goes out. Nothing is stored for a visitor until something is set or they log in.
 *
 * Values are typed by the app's `SessionData` (see session-data.ts): declared keys on get and
 * set, other keys hold `unknown`.
 */
export class Session {
  /** @internal Where the session is stored; null until something is. */ ref: SessionRef | null = null;
  /** @internal The cookie token, when the session came from (or was given) a cookie. */ token: SessionToken | null = null;
  /** @internal */ record: SessionRecord | null = null;
  /** How the request authenticated: a session cookie, a bearer access token, or neither. */
  via: CredentialKind | null = null;
  /** @internal Changed keys: JSON text, or null for a deletion. */
  readonly changes = new Map<string, string | null>();
  /** @internal Why a presented cookie was not accepted; null when none was presented or it was fine. */
  rejection: InvalidSessionReason | null = null;
  /** @internal The username whose password this request proved (LocalAuthGuard), for the login's password proof. */
  loginName: string | null = null;
  private user: AuthUser | null = null;

  /** @internal */
  constructor(
    readonly request: RequestFacts,
    readonly response: ResponseSink,
  ) {}

  /** Public handle of this session (as in the session list); null until something is stored. */
  get id(): string | null {
    return this.record?.handle ?? null;
  }

  get isAuthenticated(): boolean {
    return this.authenticatedUser !== null;
  }

  /** The logged-in user, or null. */
  get authenticatedUser(): AuthUser | null {
    if (this.user === null && this.record?.user) this.user = JSON.parse(this.record.user) as AuthUser;
    return this.user;
  }

  /** The value of a declared key, typed as declared. */
  get<Key extends DeclaredSessionKey<SessionData>>(key: Key): SessionData[Key] | undefined;
  /**
   * Any other key: `unknown`, or the type given, `get<T>(key)`, which is an assertion as with
   * `JSON.parse` (never inferred from where the result goes).
   */
  get<T = unknown>(key: string): Uninferred<T> | undefined;
  get(key: string): unknown {
    const stored = this.record && Object.hasOwn(this.record.data, key) ? this.record.data[key] : undefined;
    const text = this.changes.has(key) ? this.changes.get(key) : stored;
    return text === null || text === undefined ? undefined : JSON.parse(text);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Stores a JSON-serializable value under a key; `undefined` deletes the key. A declared key
   * takes only its declared type; any other key takes any value.
   */
  set<Key extends string>(key: Key, value: SessionValue<SessionData, Key> | undefined): void {
    assertKey(key);
    if (value === undefined) {
      this.delete(key);
      return;
    }
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new InvalidSessionDataError(`Session value for "${key}" cannot be stored as JSON: ${(error as Error).message}.`);
    }
    if (text === undefined) {
      throw new InvalidSessionDataError(`Session value for "${key}" is not JSON-serializable (a function or a symbol?).`);
    }
    if (Buffer.byteLength(text) > MAX_VALUE_BYTES) {
      throw new InvalidSessionDataError(`Session value for "${key}" is over ${MAX_VALUE_BYTES} bytes as JSON; keep large data elsewhere.`);
    }
    this.changes.set(key, text);
    // An early answer from this request's copy; the store enforces the caps where it writes,
    // against what concurrent requests have written meanwhile.
    if (exceedsSessionDataLimits(measureSessionData(this.mergedData()))) {
      this.changes.delete(key);
      throw new SessionDataTooLargeError(SESSION_DATA_LIMITS);
    }
  }

  delete(key: string): void {
    assertKey(key);
    this.changes.set(key, null);
  }

  /** The session data as one plain object. */
  toJSON(): Partial<SessionData> & Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const keys = new Set([...Object.keys(this.record?.data ?? {}), ...this.changes.keys()]);
    for (const key of keys) {
      const value = this.get(key);
      if (value !== undefined) result[key] = value;
    }
    return result as Partial<SessionData> & Record<string, unknown>;
  }

  /** Logs show the session's shape, never its token. */
  [Symbol.for('nodejs.util.inspect.custom')](): object {
    return { id: this.id, via: this.via, authenticated: this.isAuthenticated, keys: Object.keys(this.toJSON()) };
  }

  /** @internal Stored data with pending changes applied: what carries over on login. */
  mergedData(): Record<string, string> {
    const data = { ...(this.record?.data ?? {}) };
    for (const [key, text] of this.changes) {
      if (text === null) delete data[key];
      else data[key] = text;
    }
    return data;
  }

  /** @internal */
  adopt(
    ref: SessionRef | null,
    record: SessionRecord | null,
    options: { token?: SessionToken | null; via?: CredentialKind | null; user?: AuthUser; keepChanges?: boolean } = {},
  ): void {
    this.ref = ref;
    this.record = record;
    this.token = options.token ?? null;
    this.via = ref === null ? null : (options.via ?? this.via);
    this.user = options.user ?? null;
    this.rejection = null;
    if (!options.keepChanges) this.changes.clear();
  }
}

/** Keys that would reach Object.prototype when data is copied into plain objects. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function assertKey(key: string): void {
  if (
    typeof key !== 'string' ||
    key.length === 0 ||
    key.length > MAX_KEY_LENGTH ||
    !KEY_PATTERN.test(key) ||
    RESERVED_KEYS.has(key)
  ) {
    throw new InvalidSessionDataError(
      `Session key ${JSON.stringify(key)} is not allowed: use 1 to ${MAX_KEY_LENGTH} printable ASCII characters without spaces, other than __proto__, constructor and prototype.`,
    );
  }
}
