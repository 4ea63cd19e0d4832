import { SessionStoreUnavailableError } from './errors.js';

/** How long a store operation may take when nothing else is configured (the Redis store's default too). */
export const DEFAULT_STORE_OPERATION_TIMEOUT_MS = 2_000;

/**
 * Bounds one store operation by `timeoutMs` and reports any failure as the store being
 * unavailable, so a request answers 503 within the bound instead of waiting on a Redis that
 * has stopped answering (a frozen server, a dead link, a paused client). What the operation
 * does once the bound has passed is ignored; its late rejection is swallowed, never unhandled.
 */
export function boundedOperation<T>(operation: string, pending: Promise<T>, timeoutMs: number): Promise<T> {
  // One promise and one timer, no Promise.race: every store access of every request goes through here.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new SessionStoreUnavailableError(operation, new Error(`no answer within ${timeoutMs} ms`))), timeoutMs);
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      // After the bound this settles nothing (the promise is already rejected) and is not unhandled.
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof SessionStoreUnavailableError ? error : new SessionStoreUnavailableError(operation, error));
      },
    );
  });
}
