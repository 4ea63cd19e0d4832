import { parseDuration, type Duration } from '../duration.js';
import { SessionConfigurationError } from '../errors.js';
import type { AuthMode } from '../auth-mode.js';
import { JwtKeyRing, type JwtKeyOption } from './jwt-keys.js';

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
  /**
   * Path of the refresh cookie: the prefix of the built-in routes, so that the browser sends it to
   * both `refresh` and `logout` (a logout after the access token expired ends the family with
   * it). With `routes: { prefix }` or a global prefix, set it to that prefix (`/api/account`).
   * Default: `'/auth'`.
   */
  refreshCookiePath?: string;
  /**
   * Reuse grace window: for this long after a rotation, the token just rotated is answered with
   * the same successor instead of counting as reuse, so two tabs refreshing at once both keep
   * working. Older tokens, and this one after the window, still revoke the family. At most
   * `'60s'`. Default: off (reuse is detected at once).
   */
  refreshReuseGrace?: Duration;
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
  /** 0 when off. */
  refreshReuseGraceMs: number;
}
const JWT_OPTIONS = new Set([
  'keys', 'issuer', 'audience', 'accessTokenTtl', 'refreshTokenTtl', 'revocation', 'refreshTokenTransport',
  'refreshCookiePath', 'refreshReuseGrace',
]);

/** Okta's upper bound for its rotation grace period: longer only widens what a stolen token can do. */
const MAX_REFRESH_REUSE_GRACE_MS = 60_000;

/** Checks and defaults the `jwt` options; null in session mode, where they must be absent. */
export function resolveJwt(mode: AuthMode, jwt: JwtOptions | undefined, absoluteTimeoutMs: number, routesPath: string | null = null): ResolvedJwtOptions | null {
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
  // The cookie must reach both /refresh and /logout of the mounted routes, so it follows them.
  // (A global prefix set with app.setGlobalPrefix() is not known here: set the path by hand then.)
  const refreshCookiePath = jwt.refreshCookiePath ?? routesPath ?? '/auth';
  if (typeof refreshCookiePath !== 'string' || !refreshCookiePath.startsWith('/') || /[;\s]/.test(refreshCookiePath)) {
    throw new SessionConfigurationError('jwt.refreshCookiePath', `is ${JSON.stringify(refreshCookiePath)}`, 'Use the path the auth routes are mounted under, e.g. /auth.');
  }
  return {
    refreshCookiePath,
    refreshReuseGraceMs: resolveReuseGrace(jwt.refreshReuseGrace),
    keys: new JwtKeyRing(jwt.keys),
    issuer: jwt.issuer ?? 'nestjs-session-auth',
    audience: jwt.audience ?? 'nestjs-session-auth',
    accessTokenTtlMs,
    refreshTokenTtlMs,
    revocation,
    refreshTokenTransport,
  };
}

function resolveReuseGrace(value: Duration | undefined): number {
  if (value === undefined || value === 0) return 0;
  const graceMs = parseDuration('jwt.refreshReuseGrace', value);
  if (graceMs > MAX_REFRESH_REUSE_GRACE_MS) {
    throw new SessionConfigurationError(
      'jwt.refreshReuseGrace',
      `(${graceMs} ms) is longer than 60s`,
      "Keep it to seconds ('5s'): it only has to cover refreshes already in flight.",
    );
  }
  return graceMs;
}

