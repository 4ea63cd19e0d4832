import { serialize } from 'cookie';
import type { ValidateUser } from './auth-user.js';
import type { AuthEventListener } from './auth-events.js';
import { parseDuration, type Duration } from './duration.js';
import { resolveJwt, type JwtOptions, type ResolvedJwtOptions } from './jwt/jwt-options.js';
import {
  resolveCsrf,
  resolveListener,
  resolveThrottle,
  type CsrfOptions,
  type LoginThrottleOptions,
  type ResolvedCsrfOptions,
  type ResolvedLoginThrottle,
} from './protection-options.js';
import { SessionConfigurationError } from './errors.js';
import type { SessionStore, SessionsPerUserLimit } from './session-store.js';
import { resolveMaxSessionsPerUser, type MaxSessionsPerUserOptions } from './sessions-per-user.js';
import type { MemoryStoreOptions, PostgresStoreOptions, RedisStoreOptions } from './store-options.js';
import type { AuthMode } from './auth-mode.js';
import { resolveStoreUnavailable, type StoreUnavailablePolicy } from './store-unavailable-policy.js';
import { resolveMetrics, type ResolvedMetricsOptions, type SessionMetricsOptions } from './metrics-options.js';

export type { AuthMode } from './auth-mode.js';
export type { JwtOptions, ResolvedJwtOptions } from './jwt/jwt-options.js';
export type { LoginThrottleOptions, LoginThrottleWindow, ResolvedThrottleWindow } from './protection-options.js';

export type SameSite = 'lax' | 'strict' | 'none';

export interface SessionCookieOptions {
  /**
   * Cookie name, generic so it does not advertise the stack. A secure cookie gets the
   * `__Host-` prefix (or `__Secure-` when a domain or a path other than `/` is set).
   * Default: `'sid'`.
   */
  name?: string;
  /**
   * `true`: always Secure; `false`: never (local development); `'auto'`: Secure when the
   * request came over HTTPS, honouring the app's trust-proxy setting. Default: `'auto'`.
   */
  secure?: boolean | 'auto';
  /** Default: `'lax'`. `'none'` needs `secure: true`. */
  sameSite?: SameSite;
  /** Default: none (host-only cookie, which `__Host-` requires). */
  domain?: string;
  /** Default: `'/'`. */
  path?: string;
  /**
   * `false`: a browser-session cookie with no Expires/Max-Age, gone when the browser closes.
   * `true`: Max-Age equal to the absolute timeout. Default: `false`.
   */
  persistent?: boolean;
}

export type SessionStoreOption =
  | SessionStore
  | ({ type: 'memory' } & MemoryStoreOptions)
  | ({ type: 'redis' } & RedisStoreOptions)
  | ({ type: 'postgres' } & PostgresStoreOptions);

export interface SessionModuleOptions {
  /**
   * `'session'`: a session cookie. `'jwt'`: bearer access tokens and rotating refresh tokens, no
   * cookie. `'hybrid'`: login gives both. Default: `'session'`.
   */
  mode?: AuthMode;
  /** Access and refresh tokens; required in `'jwt'` and `'hybrid'` mode. */
  jwt?: JwtOptions;
  /**
   * Key(s) for the cookie's HMAC signature, each at least 32 characters. With a list, the first
   * signs and every one verifies, so a new secret can be put first and the old one removed later.
   * Required.
   */
  secret: string | string[];
  /** The app's credential check, used by LocalAuthGuard and `POST /auth/login`. Required. */
  validateUser: ValidateUser;
  /**
   * Fields of the user, besides `id` and `roles`, that are stored in the session and shown by
   * `@CurrentUser()` and `GET /auth/me`, e.g. `['name', 'email']`. Everything else that
   * `validateUser` returns is dropped at login, so a password hash or an ORM entity's internals
   * never reach the store or a response. Default: `[]`.
   */
  userFields?: string[];
  /**
   * Where sessions live: `{ type: 'redis', url }` (or `options`, `cluster`, or an existing `client`),
   * `{ type: 'memory' }`, or any SessionStore instance (which stays yours to close).
   * Default: `{ type: 'memory' }`, for development only.
   */
  store?: SessionStoreOption;
  /** Cookie attributes. HttpOnly is always on. */
  cookie?: SessionCookieOptions;
  /**
   * Throttling of LocalAuthGuard / `POST /auth/login`, before the password is checked; `false`
   * turns it off (only behind a gateway that throttles). Default: per 15 minutes, 10 failures per
   * account from one address, 100 failures per account, 100 attempts per address.
   */
  loginThrottle?: LoginThrottleOptions | false;
  /**
   * Cross-site request refusal for cookie-authenticated unsafe requests (and login in session
   * and hybrid mode): 403 when Fetch Metadata or Origin says the request comes from another
   * site. `allowedOrigins` lists other origins that may send them (e.g. an SPA on another
   * subdomain), exactly as browsers write them: `https://app.example.com`. `false` turns the
   * check off. Default: on, no extra origins.
   */
  csrf?: CsrfOptions | false;
  /**
   * Receives security events (login success and failure, logout, revocation, rotation, refresh
   * token reuse). They never contain passwords or tokens. Default: logged with Nest's Logger
   * under the context `SessionAuth` (failures and reuse as warnings).
   */
  onAuthEvent?: AuthEventListener;
  /** A session unused this long ends (sliding). Default: `'30m'`. */
  idleTimeout?: Duration;
  /**
   * A session ends this long after login, however active; in jwt/hybrid mode also the absolute
   * lifetime of a refresh token family. Default: `'12h'` in session mode, `'30d'` otherwise.
   */
  absoluteTimeout?: Duration;
  /**
   * The idle expiry is slid forward at most once per this interval, so a busy session is not
   * rewritten on every request; the effective idle timeout is between `idleTimeout - touchInterval`
   * and `idleTimeout`. Default: a tenth of the idle timeout, at most one minute.
   */
  touchInterval?: Duration;
  /**
   * How many live sessions one user may hold and what a login past that does:
   * `{ limit, onLimit: 'evict-oldest' | 'refuse' }`. Default: `{ limit: 100, onLimit: 'evict-oldest' }`.
   */
  maxSessionsPerUser?: MaxSessionsPerUserOptions;
  /**
   * jwt and hybrid mode with per-request revocation: what a bearer request gets while the store
   * is unreachable. `'reject'`: 503. `'accept-stateless'`: a valid access token keeps working until
   * its `exp` (so a revoked one does too, during the outage); login, refresh, logout, session data
   * and cookie sessions still get 503. Not allowed in session mode. Default: `'reject'`.
   */
  storeUnavailable?: StoreUnavailablePolicy;
  /**
   * Prometheus metrics through `prom-client` (an optional peer: install it). `true` registers them
   * on prom-client's default registry (the one `@willsoto/nestjs-prometheus` serves); or give
   * `{ registry, prefix }`. Default: off. Prefix default: `'session_auth_'`.
   */
  metrics?: boolean | SessionMetricsOptions;
}

export interface ResolvedCookieOptions {
  baseName: string;
  secure: boolean | 'auto';
  sameSite: SameSite;
  domain: string | undefined;
  path: string;
  persistent: boolean;
}

export interface ResolvedSessionOptions {
  mode: AuthMode;
  secrets: string[];
  validateUser: ValidateUser;
  userFields: string[];
  store: SessionStoreOption;
  cookie: ResolvedCookieOptions;
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  touchIntervalMs: number;
  /** Null in session mode. */
  jwt: ResolvedJwtOptions | null;
  /** Null when turned off. */
  csrf: ResolvedCsrfOptions | null;
  /** Null: the Nest layer logs them. */
  onAuthEvent: AuthEventListener | null;
  /** Null when turned off. */
  loginThrottle: ResolvedLoginThrottle | null;
  maxSessionsPerUser: SessionsPerUserLimit;
  storeUnavailable: StoreUnavailablePolicy;
  /** Null when off. */
  metrics: ResolvedMetricsOptions | null;
}

const MIN_SECRET_LENGTH = 32;
const KNOWN_OPTIONS = new Set([
  'mode', 'secret', 'validateUser', 'userFields', 'store', 'cookie', 'idleTimeout', 'absoluteTimeout', 'touchInterval', 'jwt',
  'loginThrottle', 'csrf', 'onAuthEvent', 'maxSessionsPerUser',
  'storeUnavailable', 'metrics',
]);
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Checks every option and fills in every default, once, at boot. */
/** What the host knows besides the options: where the built-in routes are mounted (null: not mounted). */
export interface SessionOptionsContext {
  routesPath?: string | null;
}

export function resolveSessionOptions(options: SessionModuleOptions, context: SessionOptionsContext = {}): ResolvedSessionOptions {
  if (typeof options !== 'object' || options === null) {
    throw new SessionConfigurationError('options', 'are missing', 'Pass an object to SessionModule.forRoot().');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new SessionConfigurationError(key, 'is not a known option', `Known options: ${[...KNOWN_OPTIONS].join(', ')}.`);
    }
  }
  const mode = options.mode ?? 'session';
  if (mode !== 'session' && mode !== 'jwt' && mode !== 'hybrid') {
    throw new SessionConfigurationError('mode', `is ${JSON.stringify(mode)}`, "Use 'session', 'jwt' or 'hybrid'.");
  }
  if (typeof options.validateUser !== 'function') {
    throw new SessionConfigurationError(
      'validateUser',
      'is missing',
      'Pass `validateUser: async (username, password) => user | null`, your own credential check.',
    );
  }
  const idleTimeoutMs = parseDuration('idleTimeout', options.idleTimeout ?? '30m');
  const absoluteTimeoutMs = parseDuration('absoluteTimeout', options.absoluteTimeout ?? (mode === 'session' ? '12h' : '30d'));
  if (absoluteTimeoutMs < idleTimeoutMs) {
    throw new SessionConfigurationError(
      'absoluteTimeout',
      `(${absoluteTimeoutMs} ms) is shorter than idleTimeout (${idleTimeoutMs} ms)`,
      'Make absoluteTimeout at least as long as idleTimeout.',
    );
  }
  const touchIntervalMs =
    options.touchInterval === undefined
      ? Math.min(60_000, Math.floor(idleTimeoutMs / 10))
      : parseDuration('touchInterval', options.touchInterval);
  if (touchIntervalMs >= idleTimeoutMs) {
    throw new SessionConfigurationError(
      'touchInterval',
      `(${touchIntervalMs} ms) is not shorter than idleTimeout (${idleTimeoutMs} ms)`,
      'Use a touchInterval well below the idle timeout, such as a tenth of it.',
    );
  }
  const jwt = resolveJwt(mode, options.jwt, absoluteTimeoutMs, context.routesPath ?? null);
  return {
    mode,
    jwt,
    loginThrottle: resolveThrottle(options.loginThrottle),
    csrf: resolveCsrf(options.csrf),
    onAuthEvent: resolveListener(options.onAuthEvent),
    secrets: resolveSecrets(options.secret),
    validateUser: options.validateUser,
    userFields: resolveUserFields(options.userFields),
    store: resolveStore(options.store),
    cookie: resolveCookie(options.cookie ?? {}),
    idleTimeoutMs,
    absoluteTimeoutMs,
    touchIntervalMs,
    maxSessionsPerUser: resolveMaxSessionsPerUser(options.maxSessionsPerUser),
    storeUnavailable: resolveStoreUnavailable(options.storeUnavailable, mode, jwt?.revocation ?? null),
    metrics: resolveMetrics(options.metrics),
  };
}

const RESERVED_USER_FIELDS = new Set(['id', 'roles', '__proto__', 'constructor', 'prototype']);

function resolveUserFields(fields: string[] | undefined): string[] {
  if (fields === undefined) return [];
  if (!Array.isArray(fields) || !fields.every((field) => typeof field === 'string' && field.length > 0)) {
    throw new SessionConfigurationError('userFields', `is ${JSON.stringify(fields)}`, "Use a list of field names, e.g. ['name', 'email'].");
  }
  const reserved = fields.find((field) => RESERVED_USER_FIELDS.has(field));
  if (reserved !== undefined) {
    throw new SessionConfigurationError('userFields', `lists ${JSON.stringify(reserved)}`, 'Leave out id and roles (always kept) and prototype names.');
  }
  return [...new Set(fields)];
}

function resolveSecrets(secret: string | string[] | undefined): string[] {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new SessionConfigurationError(
      'secret',
      'is missing',
      'Pass a random string of at least 32 characters from configuration, e.g. `openssl rand -base64 48`.',
    );
  }
  secrets.forEach((value, index) => {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) {
      throw new SessionConfigurationError(
        Array.isArray(secret) ? `secret[${index}]` : 'secret',
        `is shorter than ${MIN_SECRET_LENGTH} characters`,
        'Use a random string of at least 32 characters, e.g. `openssl rand -base64 48`.',
      );
    }
  });
  return [...secrets];
}

function resolveStore(store: SessionStoreOption | undefined): SessionStoreOption {
  if (store === undefined) return { type: 'memory' };
  if (typeof store !== 'object' || store === null) {
    throw new SessionConfigurationError('store', 'is not an object', "Use { type: 'redis', url } or { type: 'memory' }.");
  }
  const type: unknown = (store as { type?: unknown }).type;
  if ('type' in store && type !== 'memory' && type !== 'redis' && type !== 'postgres') {
    throw new SessionConfigurationError('store.type', `is ${JSON.stringify(type)}`, "Use 'redis', 'postgres' or 'memory'.");
  }
  if (!('type' in store) && typeof (store as SessionStore).read !== 'function') {
    throw new SessionConfigurationError(
      'store',
      'is neither a store description nor a SessionStore',
      "Use { type: 'redis', url }, { type: 'memory' } or an object implementing SessionStore.",
    );
  }
  const limits = store as { operationTimeoutMs?: unknown; maxSessions?: unknown; sweepIntervalMs?: unknown };
  for (const name of ['operationTimeoutMs', 'maxSessions', 'sweepIntervalMs'] as const) {
    const value = limits[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) > 0)) {
      throw new SessionConfigurationError(`store.${name}`, `is ${JSON.stringify(value)}`, 'Use a positive whole number.');
    }
  }
  return store;
}

function resolveCookie(cookie: SessionCookieOptions): ResolvedCookieOptions {
  const baseName = cookie.name ?? 'sid';
  if (!COOKIE_NAME.test(baseName) || /^__(host|secure)-/i.test(baseName)) {
    throw new SessionConfigurationError(
      'cookie.name',
      `is ${JSON.stringify(baseName)}`,
      'Use letters, digits, - or _, without a __Host-/__Secure- prefix (it is added when the cookie is secure).',
    );
  }
  const secure = cookie.secure ?? 'auto';
  if (secure !== true && secure !== false && secure !== 'auto') {
    throw new SessionConfigurationError('cookie.secure', `is ${JSON.stringify(secure)}`, "Use true, false or 'auto'.");
  }
  const sameSite = cookie.sameSite ?? 'lax';
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') {
    throw new SessionConfigurationError('cookie.sameSite', `is ${JSON.stringify(sameSite)}`, "Use 'lax', 'strict' or 'none'.");
  }
  if (sameSite === 'none' && secure !== true) {
    throw new SessionConfigurationError(
      'cookie.sameSite',
      "is 'none' while cookie.secure is not true",
      "Browsers drop SameSite=None cookies that are not Secure: set cookie.secure to true, or use 'lax'.",
    );
  }
  const path = cookie.path ?? '/';
  if (!path.startsWith('/') || /[;\s]/.test(path)) {
    throw new SessionConfigurationError('cookie.path', `is ${JSON.stringify(path)}`, 'Use a path starting with / and without ; or spaces.');
  }
  if (cookie.domain !== undefined && !/^[A-Za-z0-9.-]+$/.test(cookie.domain)) {
    throw new SessionConfigurationError('cookie.domain', `is ${JSON.stringify(cookie.domain)}`, 'Use a plain host name such as example.com.');
  }
  for (const [option, value] of [['cookie.path', { path }], ['cookie.domain', { domain: cookie.domain }]] as const) {
    try {
      serialize(baseName, 'x', value);
    } catch {
      throw new SessionConfigurationError(option, `is ${JSON.stringify(Object.values(value)[0])}`, 'Use a value valid in a Set-Cookie header (RFC 6265).');
    }
  }
  return { baseName, secure, sameSite, domain: cookie.domain, path, persistent: cookie.persistent ?? false };
}
