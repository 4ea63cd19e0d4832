/**
 * Every error this library throws on purpose extends SessionAuthError, so an app can tell
 * ours from its own with one `instanceof`. Messages say what to do, not only what went wrong.
 */
export class SessionAuthError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** A module option is missing or wrong. Thrown at boot, never on a request. */
export class SessionConfigurationError extends SessionAuthError {
  constructor(
    readonly option: string,
    problem: string,
    fix: string,
  ) {
    super(`SessionModule option \`${option}\` ${problem}. ${fix}`);
  }
}

/**
 * The credential presented with a request cannot be used: malformed, forged, expired,
 * revoked, or ambiguous (several session cookies). Always answered with 401; the reason is
 * kept for logs and tests, never sent to the client.
 */
export class InvalidSessionError extends SessionAuthError {
  constructor(readonly reason: InvalidSessionReason) {
    super(`Session credential rejected: ${reason}.`);
  }
}

export type InvalidSessionReason =
  | 'malformed'
  | 'bad-signature'
  | 'not-found'
  | 'expired'
  | 'duplicate-cookie'
  | 'refresh-reused';

/**
 * A request that acts through a cookie came from another site (same-site included, per Fetch
 * Metadata or Origin) where only the app's own pages may send it: answered with 403.
 */
export class CrossSiteRequestError extends SessionAuthError {
  constructor() {
    super('Cross-site request refused.');
  }
}

/**
 * The session store could not answer in time (network, Redis down, timeout). Requests that
 * need a session get 503 with Retry-After; the store recovers on its own when it returns.
 */
export class SessionStoreUnavailableError extends SessionAuthError {
  constructor(operation: string, cause?: unknown) {
    super(
      `Session store unavailable during ${operation}: ${describeCause(cause)}. ` +
        'Check that the session store (Redis, PostgreSQL) is reachable; requests will succeed again once it is.',
      { cause },
    );
  }
}

/** A session data key or value the store cannot keep. Answered with 400 by the Nest layer. */
export class InvalidSessionDataError extends SessionAuthError {}

/**
 * A write would take a session's data past its caps (counted in UTF-8 bytes, where the write
 * happens). Nothing of the write is stored. Answered with 413 by the Nest layer.
 */
export class SessionDataTooLargeError extends InvalidSessionDataError {
  constructor(limits: { maxKeys: number; maxTotalBytes: number }) {
    super(
      `Session data would exceed ${limits.maxKeys} keys or ${limits.maxTotalBytes} bytes (keys and JSON values, UTF-8); ` +
        'keep large data elsewhere and store a reference.',
    );
  }
}

/**
 * A login found its user at `maxSessionsPerUser.limit` with `onLimit: 'refuse'`: no session was
 * created and the user's other sessions are untouched. Answered with 409 by the Nest layer.
 */
export class SessionLimitReachedError extends SessionAuthError {
  constructor(readonly limit: number) {
    super(`This account already has ${limit} active sessions; log out of one (GET /auth/sessions lists them) and try again.`);
  }
}

/**
 * A session lock stayed held by another request for the whole `waitMs`. Nothing ran under it.
 * Answered with 409 by the Nest layer; the client may retry.
 */
export class SessionLockTimeoutError extends SessionAuthError {
  constructor(
    readonly lock: string,
    readonly waitedMs: number,
  ) {
    super(`Session lock "${lock}" was held by another request for ${waitedMs} ms; retry the request.`);
  }
}

/**
 * The handler under a session lock outlived its lease without renewing it, so another request
 * may have taken the lock meanwhile: its writes were discarded rather than overwrite that
 * request's. Answered with 409 by the Nest layer. Renew the lease in slow handlers, or raise `leaseMs`.
 */
export class SessionLockLostError extends SessionAuthError {
  constructor(readonly lock: string) {
    super(`Session lock "${lock}" was lost before the handler finished (its lease ran out); its changes were discarded. Renew the lease in slow handlers or raise leaseMs.`);
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return cause === undefined ? 'no detail' : String(cause);
}
