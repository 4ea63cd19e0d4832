import { isIPv6 } from 'node:net';
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { boundedOperation } from './bounded-operation.js';
import { SessionAuthError } from './errors.js';
import { sha256 } from './session-token.js';
import type { StoreAvailability } from './store-availability.js';

/** Too many login attempts for this account or from this address: answered 429 with Retry-After. */
export class LoginThrottledError extends SessionAuthError {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many login attempts; retry in ${retryAfterSeconds} s.`);
  }
}

/** The three counters of LoginThrottleOptions. */
export interface LoginLimiters {
  /** Failures of one account from one address. */
  accountAndIp: RateLimiterAbstract;
  /** Failures of one account from everywhere: the ceiling for distributed guessing. */
  account: RateLimiterAbstract;
  /** Attempts from one address, whatever the account. */
  ip: RateLimiterAbstract;
}

/**
 * Login throttling (ASVS 6.3.1, OWASP Authentication cheat sheet) with rate-limiter-flexible.
 * An attempt takes a point from the counters before the password is checked, so a flood
 * never reaches the password hash; a successful login gives back the points it took, and only
 * those. The low limit is per
 * account *and* address: a guesser locks only their own address out of the account, not the
 * real user elsewhere. The account-wide ceiling is much higher; only a guesser with many
 * addresses reaches it, and then for one window. Counters live in the session store's Redis
 * (or memory) with the window as TTL, so every lockout ends by itself when its window does.
 * Usernames are normalised (NFKC, trimmed, lower case) and hashed before they become keys;
 * IPv6 addresses are counted per /64.
 */
export class LoginThrottle {
  constructor(
    private readonly limiters: LoginLimiters,
    /** The counters share the sessions' store: its time bound, and its availability reports. */
    private readonly store: { operationTimeoutMs: number; availability: StoreAvailability },
  ) {}

  /**
   * Takes a point from each counter in turn, narrowest first, and rejects with
   * LoginThrottledError at the first that is spent. An attempt refused by its address's counters
   * never reaches the account-wide one: an address that has spent its own allowance for an
   * account cannot go on feeding that account's ceiling, so one address cannot lock the real
   * user out, however often it keeps trying (each try then costs it one Redis round trip, no hash).
   */
  async attempt(username: string, ip: string | undefined): Promise<void> {
    const keys = keysOf(username, ip);
    for (const counter of ATTEMPT_ORDER) {
      const refusal = await this.bounded(consumeOrRefusal(this.limiters[counter], keys[counter]));
      if (refusal !== null) throw new LoginThrottledError(Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)));
    }
  }

  /**
   * A successful login gives back the point its attempt took from each counter; the failures
   * before it stay counted for their window. Forgetting them would let a success reset counters
   * that another account shares: keys are normalised names, so in an app whose usernames are
   * case-sensitive the owner of `Alice` could wipe the lockout of `alice` with their own login,
   * between every few guesses.
   */
  async succeeded(username: string, ip: string | undefined): Promise<void> {
    const keys = keysOf(username, ip);
    await this.bounded(Promise.all(ATTEMPT_ORDER.map((counter) => this.limiters[counter].reward(keys[counter], 1))));
  }

  /** Like every store operation: bounded in time, failures reported as SessionStoreUnavailableError. */
  private bounded<T>(pending: Promise<T>): Promise<T> {
    return this.store.availability.track(boundedOperation('login throttle', pending, this.store.operationTimeoutMs));
  }
}

/** Narrowest first: the account-wide ceiling counts only attempts its address was allowed. */
const ATTEMPT_ORDER = ['accountAndIp', 'ip', 'account'] as const;

/** A spent counter rejects with its state, not an Error: the state is the refusal, an Error a store failure. */
async function consumeOrRefusal(limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes | null> {
  try {
    await limiter.consume(key);
    return null;
  } catch (error) {
    // Judged by shape: a failure may be an Error of another realm (a socket error), which instanceof Error misses.
    if (isRefusal(error)) return error;
    throw error;
  }
}

function isRefusal(value: unknown): value is RateLimiterRes {
  const candidate = value as Partial<RateLimiterRes> | null;
  return !(value instanceof Error) && typeof candidate?.msBeforeNext === 'number' && typeof candidate.remainingPoints === 'number';
}

function keysOf(username: string, ip: string | undefined): Record<keyof LoginLimiters, string> {
  const account = accountKey(username);
  const address = addressKey(ip);
  return { accountAndIp: `${account}@${address}`, account, ip: address };
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
