import { SessionDataTooLargeError, SessionStoreUnavailableError } from '../../core/errors.js';

/** The `kind` label of `store_errors_total`. */
export type StoreErrorKind = 'timeout' | 'unavailable' | 'data-too-large' | 'other';

// boundedOperation's cause when the bound passed without an answer (a frozen or unreachable Redis).
const NO_ANSWER = /^no answer within \d+ ms$/;

/** What kind of failure a store operation's rejection was. */
export function storeErrorKind(error: unknown): StoreErrorKind {
  if (error instanceof SessionDataTooLargeError) return 'data-too-large';
  if (error instanceof SessionStoreUnavailableError) {
    const cause = error.cause;
    return cause instanceof Error && NO_ANSWER.test(cause.message) ? 'timeout' : 'unavailable';
  }
  return 'other';
}
