import { SessionConfigurationError } from './errors.js';
import { DEFAULT_SESSIONS_PER_USER, type SessionsPerUserLimit } from './session-store.js';

/** The `maxSessionsPerUser` option. */
export interface MaxSessionsPerUserOptions {
  /** How many live sessions one user may hold, 1 to MAX_SESSIONS_PER_USER. Default: `100`. */
  limit?: number;
  /**
   * A login past the limit: `'evict-oldest'` ends the user's oldest sessions (by creation), their
   * refresh families with them; `'refuse'` answers 409 and keeps the others. Default: `'evict-oldest'`.
   */
  onLimit?: SessionsPerUserLimit['onLimit'];
}

/** The highest `maxSessionsPerUser.limit`: a login checks every session of its user, so the bound keeps that cheap. */
export const MAX_SESSIONS_PER_USER = 1000;

export function resolveMaxSessionsPerUser(option: MaxSessionsPerUserOptions | undefined): SessionsPerUserLimit {
  if (option === undefined) return DEFAULT_SESSIONS_PER_USER;
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new SessionConfigurationError('maxSessionsPerUser', `is ${JSON.stringify(option)}`, "Use { limit: 3, onLimit: 'refuse' }, or leave it out.");
  }
  const unknown = Object.keys(option).find((key) => key !== 'limit' && key !== 'onLimit');
  if (unknown !== undefined) {
    throw new SessionConfigurationError(`maxSessionsPerUser.${unknown}`, 'is not a known option', 'Known: limit, onLimit.');
  }
  const limit = option.limit ?? DEFAULT_SESSIONS_PER_USER.limit;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SESSIONS_PER_USER) {
    throw new SessionConfigurationError(
      'maxSessionsPerUser.limit',
      `is ${JSON.stringify(limit)}`,
      `Use a whole number from 1 to ${MAX_SESSIONS_PER_USER}.`,
    );
  }
  const onLimit = option.onLimit ?? DEFAULT_SESSIONS_PER_USER.onLimit;
  if (onLimit !== 'evict-oldest' && onLimit !== 'refuse') {
    throw new SessionConfigurationError('maxSessionsPerUser.onLimit', `is ${JSON.stringify(onLimit)}`, "Use 'evict-oldest' or 'refuse'.");
  }
  return { limit, onLimit };
}
