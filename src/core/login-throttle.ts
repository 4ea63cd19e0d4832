import { isIPv6 } from 'node:net';
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { SessionAuthError, SessionStoreUnavailableError } from './errors.js';
import { sha256 } from './session-token.js';

/** Too many login attempts for this account or from this address: answered 429 with Retry-After. */
export class LoginThrottledError extends SessionAuthError {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many login attempts; retry in ${retryAfterSeconds} s.`);
  }
}

/** The two counters: failed attempts per account and per client address. */
export interface LoginLimiters {
  account: RateLimiterAbstract;
  ip: RateLimiterAbstract;
}

/**
 * Login throttling (ASVS 6.3.1, OWASP Authentication cheat sheet) with rate-limiter-flexible.
 * An attempt takes a point from both counters before the password is checked, so a flood
 * never reaches the password hash; a successful login gives them back. Counters live in the
 * session store's Redis (or memory) with the window as TTL, so a locked account unlocks by
 * itself when the window ends: an attacker can hold the real user off for one window, no longer.
 * Usernames are normalised (NFKC, trimmed, lower case) and hashed before they become keys;
 * IPv6 addresses are counted per /64.
 */
export class LoginThrottle {
  constructor(private readonly limiters: LoginLimiters) {}

  /** Takes a point from both counters; rejects with LoginThrottledError when either is spent. */
  async attempt(username: string, ip: string | undefined): Promise<void> {
    const [account, address] = await Promise.allSettled([
      this.limiters.account.consume(accountKey(username)),
      this.limiters.ip.consume(addressKey(ip)),
    ]);
    const refusals = [account, address].flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    const failure = refusals.find((reason) => reason instanceof Error);
    if (failure) throw new SessionStoreUnavailableError('login throttle', failure);
    if (refusals.length > 0) {
      const waitMs = Math.max(...refusals.map((refusal) => (refusal as RateLimiterRes).msBeforeNext));
      throw new LoginThrottledError(Math.max(1, Math.ceil(waitMs / 1000)));
    }
  }

  /** A successful login: the account's failures are forgotten and the address gets its point back. */
  async succeeded(username: string, ip: string | undefined): Promise<void> {
    try {
      await Promise.all([this.limiters.account.delete(accountKey(username)), this.limiters.ip.reward(addressKey(ip), 1)]);
    } catch (error) {
      throw new SessionStoreUnavailableError('login throttle', error);
    }
  }
}

/** Spellings an app's lookup commonly treats as one account share one counter. */
function accountKey(username: string): string {
  return sha256(username.normalize('NFKC').trim().toLowerCase());
}

/** One IPv6 client usually holds a whole /64, so it is counted per /64. */
function addressKey(ip: string | undefined): string {
  if (ip === undefined) return 'unknown';
  if (!isIPv6(ip) || ip.startsWith('::ffff:')) return ip;
  const [head, tail = ''] = ip.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  return `${groups.slice(0, 4).map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
}
