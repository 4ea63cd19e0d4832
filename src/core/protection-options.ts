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

export interface CsrfOptions {
  /** Other origins that may send cookie-authenticated unsafe requests, e.g. `https://app.example.com`. */
  allowedOrigins?: string[];
}

export interface ResolvedCsrfOptions {
  allowedOrigins: ReadonlySet<string>;
}

export interface ResolvedLoginThrottle {
  perAccount: ResolvedThrottleWindow;
  perIp: ResolvedThrottleWindow;
}

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
  return { allowedOrigins: new Set(origins) };
}

export function resolveThrottle(throttle: LoginThrottleOptions | false | undefined): ResolvedLoginThrottle | null {
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
