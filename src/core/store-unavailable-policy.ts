import type { AuthMode } from './auth-mode.js';
import { DEFAULT_STORE_OPERATION_TIMEOUT_MS } from './bounded-operation.js';
import { SessionConfigurationError, SessionStoreUnavailableError } from './errors.js';

/**
 * What a bearer request gets while the session store is unreachable (jwt and hybrid mode, with
 * per-request revocation). `'reject'`: 503, as for everything else that needs the store.
 * `'accept-stateless'`: a valid access token is accepted on its signature and claims alone until
 * its `exp`, so a revoked token stays usable for that long during an outage. Everything that
 * needs the store (login, refresh, logout, session data, cookie sessions) still gets 503.
 */
export type StoreUnavailablePolicy = 'reject' | 'accept-stateless';

/** The answer of a revocation check the store could not make under `'accept-stateless'`. */
export const REVOCATION_UNCHECKED = Symbol('session-auth:revocation-unchecked');

/** Checks `storeUnavailable` once, at boot, against the mode it would act in. */
export function resolveStoreUnavailable(
  value: unknown,
  mode: AuthMode,
  revocation: 'per-request' | 'stateless' | null,
): StoreUnavailablePolicy {
  if (value === undefined || value === 'reject') return 'reject';
  if (value !== 'accept-stateless') {
    throw new SessionConfigurationError('storeUnavailable', `is ${JSON.stringify(value)}`, "Use 'reject' (the default) or 'accept-stateless'.");
  }
  if (mode === 'session') {
    throw new SessionConfigurationError(
      'storeUnavailable',
      "is 'accept-stateless' in session mode",
      'A session cookie means nothing without the store, so there is no stateless answer: remove the option, or use mode jwt or hybrid.',
    );
  }
  if (revocation === 'stateless') {
    throw new SessionConfigurationError(
      'storeUnavailable',
      "is 'accept-stateless' while jwt.revocation is 'stateless'",
      'Access tokens never ask the store then, so there is nothing to accept during an outage: remove the option.',
    );
  }
  return value;
}

/**
 * The per-request revocation check under the policy. With `'accept-stateless'`, a store that
 * does not answer (SessionStoreUnavailableError, or no answer within the bound) makes the answer
 * REVOCATION_UNCHECKED instead of a rejection; any other outcome is the check's own. The bound is
 * a backstop for stores that do not bound their operations themselves (the Redis store does,
 * with its `operationTimeoutMs`, which wins when it is shorter).
 */
export async function checkRevocation<T>(
  policy: StoreUnavailablePolicy,
  check: () => Promise<T>,
  boundMs = DEFAULT_STORE_OPERATION_TIMEOUT_MS,
): Promise<T | typeof REVOCATION_UNCHECKED> {
  if (policy === 'reject') return check();
  const pending = check();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<typeof REVOCATION_UNCHECKED>((resolve) => {
    timer = setTimeout(() => resolve(REVOCATION_UNCHECKED), boundMs);
  });
  try {
    return await Promise.race([pending, bound]);
  } catch (error) {
    // Only an outage is accepted: any other failure (a bug) stays a failure.
    if (error instanceof SessionStoreUnavailableError) return REVOCATION_UNCHECKED;
    throw error;
  } finally {
    clearTimeout(timer);
    pending.catch(() => undefined);
  }
}
