/** Internal DI tokens and metadata keys. Not exported from the package barrel. */
export const RESOLVED_SESSION_OPTIONS = Symbol('RESOLVED_SESSION_OPTIONS');
export const OWNED_SESSION_STORE = Symbol('OWNED_SESSION_STORE');
export const LOGIN_THROTTLE = Symbol('LOGIN_THROTTLE');
export const AUTH_EVENTS = Symbol('AUTH_EVENTS');
/** The path the built-in routes are mounted under (`/auth`), or null when they are not mounted. */
export const MOUNTED_ROUTES_PATH = Symbol('MOUNTED_ROUTES_PATH');
export const IS_PUBLIC_KEY = 'session-auth:is-public';
export const ROLES_KEY = 'session-auth:roles';
export const NEEDS_SESSION_KEY = 'session-auth:needs-session';
export const LOCAL_STRATEGY_NAME = 'session-auth-local';
/** Seconds a client should wait after a 503 caused by the session store. */
export const STORE_RETRY_AFTER_SECONDS = 5;
/** The CsrfTokens of the module, or null when `csrf.token` is off. */
export const CSRF_TOKENS = Symbol('CSRF_TOKENS');
export const FRESH_LOGIN_KEY = 'session-auth:fresh-login';
