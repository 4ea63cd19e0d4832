import type { SignedRequestRejection } from './signed-requests/signed-request-errors.js';
import type { CsrfRefusal } from './csrf-token.js';

/**
 * Security events (ASVS 16.3.1, OWASP logging cheat sheet). They carry who, from where and
 * what happened, never a password, session token, refresh token or cookie value: users are
 * named by id, sessions by their public handle, failed usernames by a short hash (people type
 * passwords into username fields).
 */
export type AuthEvent = AuthEventContext & (
  | { type: 'login.succeeded'; userId: string; sessionId: string | null; ip: string | null }
  | { type: 'login.failed'; reason: 'bad-credentials' | 'throttled' | 'cross-site'; account: string; ip: string | null }
  | { type: 'logout'; userId: string | null; sessionId: string | null; ip: string | null }
  | { type: 'session.revoked'; userId: string; sessionIds: string[] | 'all-but-current' | 'all'; count: number }
  | { type: 'session.rotated'; userId: string | null; sessionId: string | null }
  | { type: 'refresh.reused'; ip: string | null }
  /** A login past `maxSessionsPerUser` ended the user's oldest sessions (`'evict-oldest'`). */
  | { type: 'session.evicted'; userId: string; sessionIds: string[]; count: number }
  /** A login refused at `maxSessionsPerUser` (`'refuse'`). */
  | { type: 'login.refused-limit'; userId: string; limit: number; ip: string | null }
  /** A session lock stayed held by another request for the whole wait (SessionLockTimeoutError). */
  | { type: 'lock.timeout'; userId: string | null; sessionId: string | null; lock: string; waitedMs: number }
  /** A cookie-authenticated unsafe request refused by the CSRF defence; never carries the token. */
  | { type: 'csrf.rejected'; reason: CsrfRefusal; userId: string | null; sessionId: string | null; ip: string | null }
  /** A request refused by SignedRequestGuard (with a SessionModule in the app); never carries the signature. */
  | { type: 'signed-request.rejected'; reason: SignedRequestRejection; ip: string | null }
);

/** What any event may carry besides its own fields. */
export interface AuthEventContext {
  /** The trace id of the request it happened in (active OpenTelemetry span, or a valid W3C `traceparent`), when there is one. */
  traceId?: string;
}

export type AuthEventListener = (event: AuthEvent) => void;

/**
 * The name of an event on the Nest event bus (`@nestjs/event-emitter`): `session-auth.` and the
 * event's type, so every event type, present and future, has its name by this one rule.
 */
export type AuthEventName = `session-auth.${AuthEvent['type']}`;

/** The payload emitted under an event name. */
export type AuthEventPayload<Name extends AuthEventName> = Extract<AuthEvent, { type: Name extends `session-auth.${infer T}` ? T : never }>;

export const AUTH_EVENT_NAME_PREFIX = 'session-auth.';

export function authEventName(event: AuthEvent): AuthEventName {
  return `${AUTH_EVENT_NAME_PREFIX}${event.type}` as AuthEventName;
}
