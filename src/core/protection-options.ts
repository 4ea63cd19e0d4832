import type { AuthEventListener } from './auth-events.js';
import { parseDuration, type Duration } from './duration.js';
import { SessionConfigurationError } from './errors.js';

/* Options of the protections around login and cookies: throttling, CSRF, security events. */

export interface LoginThrottleWindow {
  /** Attempts allowed in one window. */
  attempts: number;
  /** Length of the window; a spent counter resets when it ends. */
  window: Duration;
}

/**
 * Three counters, all checked before the password is (ASVS 6.3.1). A guesser at one address
 * meets `perAccountAndIp` long before the real user, at another address, meets `perAccount`:
 * so a lockout cannot be aimed at a user from elsewhere, while distributed guessing against
 * one account still hits the account-wide ceiling.
 */
export interface LoginThrottleOptions {
  /** Failed logins per username from one client address. Default: `{ attempts: 10, window: '15m' }`. */
  perAccountAndIp?: LoginThrottleWindow;
  /** Failed logins per username from all addresses together. Default: `{ attempts: 100, window: '15m' }`. */
  perAccount?: LoginThrottleWindow;
  /** Login attempts per client address, successful ones given back. Default: `{ attempts: 100, window: '15m' }`. */
  perIp?: LoginThrottleWindow;
}

export interface ResolvedThrottleWindow {
  attempts: number;
  windowSeconds: number;
}

export interface CsrfOptions {
  /** Other origins that may send cookie-authenticated unsafe requests, e.g. `https://app.example.com`. */
  allowedOrigins?: string[];
  /**
   * A synchronizer token on top of the Fetch Metadata / Origin check, for browsers that send
   * neither header: every cookie-authenticated unsafe request must carry the session's token
   * (`GET /auth/csrf`, `csrfToken` in the login answer) in `headerName`. Default: `false`.
   */
  token?: boolean;
  /** The request header that carries the token. Default: `'x-csrf-token'`. */
  headerName?: string;
}

export interface ResolvedCsrfOptions {
  allowedOrigins: ReadonlySet<string>;
  /** Null when the token is off. The header name in lower case. */
  token: { headerName: string } | null;
}

const CSRF_HEADER_PATTERN = /^[a-z0-9-]+$/;

export type ResolvedLoginThrottle = Record<keyof LoginThrottleOptions, ResolvedThrottleWindow>;

const THROTTLE_DEFAULTS: Record<keyof LoginThrottleOptions, LoginThrottleWindow> = {
  perAccountAndIp: { attempts: 10, window: '15m' },
  perAccount: { attempts: 100, window: '15m' },
  perIp: { attempts: 100, window: '15m' },
};

export function resolveListener(listener: AuthEventListener | undefined): AuthEventListener | null {
  if (listener === undefined) return null;
  if (typeof listener !== 'function') {
    throw new SessionConfigurationError('onAuthEvent', 'is not a function', 'Pass (event) => void, or leave it out to log with Nest.');
  }
  return listener;
}

export function resolveCsrf(csrf: CsrfOptions | false | undefined): ResolvedCsrfOptions | null {
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
  if (csrf?.token !== undefined && typeof csrf.token !== 'boolean') {
    throw new SessionConfigurationError('csrf.token', `is ${JSON.stringify(csrf.token)}`, 'Use true or false.');
  }
  const headerName = csrf?.headerName ?? 'x-csrf-token';
  if (typeof headerName !== 'string' || !CSRF_HEADER_PATTERN.test(headerName.toLowerCase())) {
    throw new SessionConfigurationError('csrf.headerName', `is ${JSON.stringify(headerName)}`, "Use a header name such as 'x-csrf-token'.");
  }
  return { allowedOrigins: new Set(origins), token: csrf?.token === true ? { headerName: headerName.toLowerCase() } : null };
}

export function resolveThrottle(throttle: LoginThrottleOptions | false | undefined): ResolvedLoginThrottle | null {
  if (throttle === false) return null;
  const names = Object.keys(THROTTLE_DEFAULTS) as Array<keyof LoginThrottleOptions>;
  if (throttle !== undefined && (typeof throttle !== 'object' || throttle === null)) {
    throw new SessionConfigurationError('loginThrottle', `is ${JSON.stringify(throttle)}`, `Give { ${names.join(', ')} } or false.`);
  }
  const unknown = Object.keys(throttle ?? {}).find((name) => !names.includes(name as keyof LoginThrottleOptions));
  if (unknown !== undefined) {
    throw new SessionConfigurationError(`loginThrottle.${unknown}`, 'is not an option', `Use ${names.join(', ')}.`);
  }
  const window = (name: keyof LoginThrottleOptions): ResolvedThrottleWindow => {
    const value = throttle?.[name] ?? THROTTLE_DEFAULTS[name];
    if (!Number.isSafeInteger(value?.attempts) || value.attempts < 1) {
      throw new SessionConfigurationError(`loginThrottle.${name}.attempts`, `is ${JSON.stringify(value?.attempts)}`, 'Use a positive whole number.');
    }
    const windowMs = parseDuration(`loginThrottle.${name}.window`, value.window);
    return { attempts: value.attempts, windowSeconds: Math.max(1, Math.ceil(windowMs / 1000)) };
  };
  return { perAccountAndIp: window('perAccountAndIp'), perAccount: window('perAccount'), perIp: window('perIp') };
}
