import { serialize } from 'cookie';
import type { ValidateUser } from './auth-user.js';
import type { AuthEventListener } from './auth-events.js';
import { JwtKeyRing, type JwtKeyOption } from './jwt/jwt-keys.js';
import { parseDuration, type Duration } from './duration.js';
import { SessionConfigurationError } from './errors.js';
import type { SessionStore } from '../stores/session-store.interface.js';
import type { MemorySessionStoreOptions } from '../stores/memory-session-store.js';
import type { RedisSessionStoreOptions } from '../stores/redis-session-store.js';

export type AuthMode = 'session' | 'jwt' | 'hybrid';

export interface JwtOptions {
  /** Signing and verification keys; the first signs, all verify until removed. Required in jwt/hybrid mode. */
  keys: JwtKeyOption[];
  /** `iss` of issued tokens, required on verified ones. Default: `'nestjs-session-auth'`. */
  issuer?: string;
  /** `aud` of issued tokens, required on verified ones. Default: `'nestjs-session-auth'`. */
  audience?: string;
  /** Lifetime of an access token. Default: `'15m'`. */
  accessTokenTtl?: Duration;
  /** A refresh token must be used within this time; each use issues a new one. Default: `'7d'`. */
  refreshTokenTtl?: Duration;
  /**
   * `'per-request'`: every bearer request checks in the store that its session (token family) is
   * still alive: one round trip, and logout takes effect at once. `'stateless'`: no store access
   * per request; a revoked access token keeps working until its `exp`. Default: `'per-request'`.
   */
  revocation?: 'per-request' | 'stateless';
  /**
   * `'body'`: the refresh token travels in JSON. `'cookie'`: in an HttpOnly cookie scoped to the
   * refresh route, out of reach of scripts. Default: `'body'`.
   */
  refreshTokenTransport?: 'body' | 'cookie';
  /** Path of the refresh cookie: where the refresh route is mounted. Default: `'/auth/refresh'`. */
  refreshCookiePath?: string;
}

export interface ResolvedJwtOptions {
  keys: JwtKeyRing;
  issuer: string;
  audience: string;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  revocation: 'per-request' | 'stateless';
  refreshTokenTransport: 'body' | 'cookie';
  refreshCookiePath: string;
}
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
  | ({ type: 'memory' } & MemorySessionStoreOptions)
  | ({ type: 'redis' } & RedisSessionStoreOptions);

export interface LoginThrottleWindow {
  /** Attempts allowed in one window. */
  attempts: number;
  /** Length of the window; a spent counter resets when it ends. */
  window: Duration;
}

export interface LoginThrottleOptions {
  /** Failed logins per username. Default: `{ attempts: 10, window: '15m' }`. */
  perAccount?: LoginThrottleWindow;
  /** Login attempts per client address, successful ones given back. Default: `{ attempts: 100, window: '15m' }`. */
  perIp?: LoginThrottleWindow;
}

export interface ResolvedThrottleWindow {
  attempts: number;
  windowSeconds: number;
}

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
   * Where sessions live: `{ type: 'redis', url }` (or `options`, or an existing `client`),
   * `{ type: 'memory' }`, or any SessionStore instance (which stays yours to close).
   * Default: `{ type: 'memory' }`, for development only.
   */
  store?: SessionStoreOption;
  /** Cookie attributes. HttpOnly is always on. */
  cookie?: SessionCookieOptions;
  /**
   * Throttling of LocalAuthGuard / `POST /auth/login`, before the password is checked; `false`
   * turns it off (only behind a gateway that throttles). Default: 10 failures per account and
   * 100 attempts per address per 15 minutes.
   */
  loginThrottle?: LoginThrottleOptions | false;
  /**
   * Cross-site request refusal for cookie-authenticated unsafe requests (and login in session
   * and hybrid mode): 403 when Fetch Metadata or Origin says the request comes from another
   * site. `allowedOrigins` lists other origins that may send them (e.g. an SPA on another
   * subdomain), exactly as browsers write them: `https://app.example.com`. `false` turns the
   * check off. Default: on, no extra origins.
   */
  csrf?: { allowedOrigins?: string[] } | false;
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
  store: SessionStoreOption;
  cookie: ResolvedCookieOptions;
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  touchIntervalMs: number;
  /** Null in session mode. */
  jwt: ResolvedJwtOptions | null;
  /** Null when turned off. */
  csrf: { allowedOrigins: ReadonlySet<string> } | null;
  /** Null: the Nest layer logs them. */
  onAuthEvent: AuthEventListener | null;
  /** Null when turned off. */
  loginThrottle: { perAccount: ResolvedThrottleWindow; perIp: ResolvedThrottleWindow } | null;
}

const MIN_SECRET_LENGTH = 32;
const KNOWN_OPTIONS = new Set([
  'mode', 'secret', 'validateUser', 'store', 'cookie', 'idleTimeout', 'absoluteTimeout', 'touchInterval', 'jwt',
  'loginThrottle', 'csrf', 'onAuthEvent',
]);
const JWT_OPTIONS = new Set([
  'keys', 'issuer', 'audience', 'accessTokenTtl', 'refreshTokenTtl', 'revocation', 'refreshTokenTransport',
  'refreshCookiePath',
]);
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Checks every option and fills in every default, once, at boot. */
export function resolveSessionOptions(options: SessionModuleOptions): ResolvedSessionOptions {
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
  const jwt = resolveJwt(mode, options.jwt, absoluteTimeoutMs);
  return {
    mode,
    jwt,
    loginThrottle: resolveThrottle(options.loginThrottle),
    csrf: resolveCsrf(options.csrf),
    onAuthEvent: resolveListener(options.onAuthEvent),
    secrets: resolveSecrets(options.secret),
    validateUser: options.validateUser,
    store: resolveStore(options.store),
    cookie: resolveCookie(options.cookie ?? {}),
    idleTimeoutMs,
    absoluteTimeoutMs,
    touchIntervalMs,
  };
}

function resolveJwt(mode: AuthMode, jwt: JwtOptions | undefined, absoluteTimeoutMs: number): ResolvedJwtOptions | null {
  if (mode === 'session') {
    if (jwt !== undefined) {
      throw new SessionConfigurationError('jwt', "is set while mode is 'session'", "Set mode: 'jwt' or 'hybrid', or remove the jwt options.");
    }
    return null;
  }
  if (typeof jwt !== 'object' || jwt === null) {
    throw new SessionConfigurationError('jwt', `is missing in ${mode} mode`, "Give jwt: { keys: [{ kid, alg: 'HS256', secret }] } at least.");
  }
  for (const key of Object.keys(jwt)) {
    if (!JWT_OPTIONS.has(key)) {
      throw new SessionConfigurationError(`jwt.${key}`, 'is not a known option', `Known jwt options: ${[...JWT_OPTIONS].join(', ')}.`);
    }
  }
  const accessTokenTtlMs = parseDuration('jwt.accessTokenTtl', jwt.accessTokenTtl ?? '15m');
  const refreshTokenTtlMs = parseDuration('jwt.refreshTokenTtl', jwt.refreshTokenTtl ?? '7d');
  if (accessTokenTtlMs > refreshTokenTtlMs) {
    throw new SessionConfigurationError('jwt.accessTokenTtl', 'is longer than jwt.refreshTokenTtl', 'Keep access tokens short-lived: minutes, not days.');
  }
  if (refreshTokenTtlMs > absoluteTimeoutMs) {
    throw new SessionConfigurationError(
      'jwt.refreshTokenTtl',
      `(${refreshTokenTtlMs} ms) is longer than absoluteTimeout (${absoluteTimeoutMs} ms)`,
      'Make absoluteTimeout, the lifetime of a refresh token family, at least as long.',
    );
  }
  const revocation = jwt.revocation ?? 'per-request';
  if (revocation !== 'per-request' && revocation !== 'stateless') {
    throw new SessionConfigurationError('jwt.revocation', `is ${JSON.stringify(revocation)}`, "Use 'per-request' or 'stateless'.");
  }
  const refreshTokenTransport = jwt.refreshTokenTransport ?? 'body';
  if (refreshTokenTransport !== 'body' && refreshTokenTransport !== 'cookie') {
    throw new SessionConfigurationError('jwt.refreshTokenTransport', `is ${JSON.stringify(refreshTokenTransport)}`, "Use 'body' or 'cookie'.");
  }
  for (const [option, value] of [['jwt.issuer', jwt.issuer], ['jwt.audience', jwt.audience]] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw new SessionConfigurationError(option, 'is not a non-empty string', 'Give a URL or name, e.g. https://api.example.com.');
    }
  }
  const refreshCookiePath = jwt.refreshCookiePath ?? '/auth/refresh';
  if (typeof refreshCookiePath !== 'string' || !refreshCookiePath.startsWith('/') || /[;\s]/.test(refreshCookiePath)) {
    throw new SessionConfigurationError('jwt.refreshCookiePath', `is ${JSON.stringify(refreshCookiePath)}`, 'Use the refresh route path, e.g. /auth/refresh.');
  }
  return {
    refreshCookiePath,
    keys: new JwtKeyRing(jwt.keys),
    issuer: jwt.issuer ?? 'nestjs-session-auth',
    audience: jwt.audience ?? 'nestjs-session-auth',
    accessTokenTtlMs,
    refreshTokenTtlMs,
    revocation,
    refreshTokenTransport,
  };
}

function resolveListener(listener: AuthEventListener | undefined): AuthEventListener | null {
  if (listener === undefined) return null;
  if (typeof listener !== 'function') {
    throw new SessionConfigurationError('onAuthEvent', 'is not a function', 'Pass (event) => void, or leave it out to log with Nest.');
  }
  return listener;
}

function resolveCsrf(csrf: SessionModuleOptions['csrf']): ResolvedSessionOptions['csrf'] {
  if (csrf === false) return null;
  const origins = csrf?.allowedOrigins ?? [];
  if (!Array.isArray(origins)) {
    throw new SessionConfigurationError('csrf.allowedOrigins', 'is not a list', "Give origins such as ['https://app.example.com'].");
  }
  for (const origin of origins) {
    let canonical: string | undefined;
    try {
      canonical = new URL(origin).origin;
    } catch {
      canonical = undefined;
    }
    if (canonical !== origin) {
      throw new SessionConfigurationError(
        'csrf.allowedOrigins',
        `contains ${JSON.stringify(origin)}, which is not an origin`,
        'Write scheme, host and port only, as browsers send it: https://app.example.com.',
      );
    }
  }
  return { allowedOrigins: new Set(origins) };
}

function resolveThrottle(throttle: LoginThrottleOptions | false | undefined): ResolvedSessionOptions['loginThrottle'] {
  if (throttle === false) return null;
  if (throttle !== undefined && (typeof throttle !== 'object' || throttle === null)) {
    throw new SessionConfigurationError('loginThrottle', `is ${JSON.stringify(throttle)}`, 'Give { perAccount, perIp } or false.');
  }
  const window = (name: 'perAccount' | 'perIp', fallback: LoginThrottleWindow): ResolvedThrottleWindow => {
    const value = throttle?.[name] ?? fallback;
    if (!Number.isSafeInteger(value?.attempts) || value.attempts < 1) {
      throw new SessionConfigurationError(`loginThrottle.${name}.attempts`, `is ${JSON.stringify(value?.attempts)}`, 'Use a positive whole number.');
    }
    const windowMs = parseDuration(`loginThrottle.${name}.window`, value.window);
    return { attempts: value.attempts, windowSeconds: Math.max(1, Math.ceil(windowMs / 1000)) };
  };
  return {
    perAccount: window('perAccount', { attempts: 10, window: '15m' }),
    perIp: window('perIp', { attempts: 100, window: '15m' }),
  };
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
  if ('type' in store && type !== 'memory' && type !== 'redis') {
    throw new SessionConfigurationError('store.type', `is ${JSON.stringify(type)}`, "Use 'redis' or 'memory'.");
  }
  if (!('type' in store) && typeof (store as SessionStore).read !== 'function') {
    throw new SessionConfigurationError(
      'store',
      'is neither a store description nor a SessionStore',
      "Use { type: 'redis', url }, { type: 'memory' } or an object implementing SessionStore.",
    );
  }
  const limits = store as { operationTimeoutMs?: unknown; maxSessions?: unknown };
  for (const name of ['operationTimeoutMs', 'maxSessions'] as const) {
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
