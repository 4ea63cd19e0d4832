export type { AuthUser, ValidateUser } from './core/auth-user.js';
export { AUTH_EVENT_NAME_PREFIX, type AuthEvent, type AuthEventListener, type AuthEventName, type AuthEventPayload } from './core/auth-events.js';
export type { CsrfRefusal } from './core/csrf-token.js';
export { LoginThrottledError } from './core/login-throttle.js';
export type { CsrfOptions, LoginThrottleOptions, LoginThrottleWindow } from './core/protection-options.js';
export type { Duration } from './core/duration.js';
export {
  CrossSiteRequestError,
  InvalidSessionDataError,
  InvalidSessionError,
  SessionAuthError,
  SessionConfigurationError,
  SessionLimitReachedError,
  SessionLockLostError,
  SessionLockTimeoutError,
  SessionStoreUnavailableError,
  type InvalidSessionReason,
} from './core/errors.js';
export { Session } from './core/session.js';
export type { SessionData } from './core/session-data.js';
export type { SessionInfo } from './core/session-manager.js';
export type { TokenPair } from './core/jwt/token-issuer.js';
export type { JwtAlgorithm, JwtKeyOption } from './core/jwt/jwt-keys.js';
export type {
  JwtOptions,
  AuthMode,
  SameSite,
  SessionCookieOptions,
  SessionModuleOptions,
  SessionStoreOption,
} from './core/session-options.js';
export { MemorySessionStore, type MemorySessionStoreOptions } from './stores/memory-session-store.js';
export { RedisSessionStore, type RedisSessionStoreOptions } from './stores/redis/redis-session-store.js';
export { PostgresSessionStore, type PostgresSessionStoreOptions } from './stores/postgres/postgres-session-store.js';
export type { NearCacheOptions } from './core/store-options.js';
export type { NearCacheStats } from './stores/redis/near-cached-sessions.js';
export type { MaxSessionsPerUserOptions } from './core/sessions-per-user.js';
export type { HeldLock, SessionLockOptions } from './core/session-lock.js';
export { isLockable, type LockableSessionStore, type SessionLocks } from './core/session-locks.js';
export {
  SessionStore,
  type CreateOptions,
  type CreateResult,
  type SessionsPerUserLimit,
  type PasswordProof,
  type SessionPatch,
  type SessionRecord,
  type TouchPolicy,
} from './core/session-store.js';
export { AuthController } from './nest/auth.controller.js';
export { AuthService } from './nest/auth.service.js';
export { CurrentSession, CurrentUser, Public, Roles } from './nest/decorators.js';
export { AuthenticatedGuard } from './nest/guards/authenticated.guard.js';
export { CsrfGuard, CsrfProtected } from './nest/guards/csrf.guard.js';
export { FreshLoginGuard, REAUTHENTICATION_REQUIRED, RequireFreshLogin } from './nest/guards/fresh-login.guard.js';
export { JwtGuard } from './nest/guards/jwt.guard.js';
export { JwksController } from './nest/jwks.controller.js';
export { LocalAuthGuard } from './nest/guards/local-auth.guard.js';
export { RolesGuard } from './nest/guards/roles.guard.js';
export { SessionGuard } from './nest/guards/session.guard.js';
export { SessionModule } from './nest/session.module.js';
export { GraphqlAuthError } from './nest/graphql/graphql-errors.js';
export { SocketSessions } from './nest/websockets/socket-sessions.js';
export { CROSS_SITE_CLOSE_CODE, SESSION_CLOSE_CODE, TRY_AGAIN_LATER_CLOSE_CODE, type HandshakeRequest } from './nest/websockets/socket-handshake.js';
export type { SessionEndChannel, SessionEndNotice } from './core/session-end-channel.js';
export type { SessionModuleExtras, SessionOptionsFactory } from './nest/session.module-definition.js';
export {
  ARGON2ID_MINIMUM,
  PasswordHasher,
  PasswordHasherConfigurationError,
  SCRYPT_MINIMUM,
  UnsupportedPasswordHashError,
  type PasswordAlgorithm,
  type PasswordHasherOptions,
} from './core/passwords/index.js';
export type { NonceStore } from './core/nonce-store.js';
export {
  contentDigest,
  InvalidSignedRequestError,
  signRequest,
  SignedRequestConfigurationError,
  SignedRequestVerifier,
  type SignedRequestFacts,
  type SignedRequestOptions,
  type SignedRequestRejection,
  type SignRequestInput,
  type VerifiedSignedRequest,
} from './core/signed-requests/index.js';
export { MemoryNonceStore, type MemoryNonceStoreOptions } from './stores/memory-nonce-store.js';
export { RedisNonceStore, type RedisNonceStoreOptions } from './stores/redis/redis-nonce-store.js';
export { SignedRequestGuard } from './nest/guards/signed-request.guard.js';
export { SignatureKeyId } from './nest/signed-requests/signature-key-id.decorator.js';
export { SignedRequestModule } from './nest/signed-requests/signed-request.module.js';
export type { SignedRequestModuleExtras } from './nest/signed-requests/signed-request.module-definition.js';
export type { AuthEventContext } from './core/auth-events.js';
export type { StoreUnavailablePolicy } from './core/store-unavailable-policy.js';
export type { MetricsRegistry, SessionMetricsOptions } from './core/metrics-options.js';
export { SessionStoreHealthIndicator, type SessionStoreHealth, type SessionStoreHealthOptions } from './nest/health/session-store.health.js';
