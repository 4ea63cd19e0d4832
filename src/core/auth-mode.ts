/**
 * `'session'`: a session cookie. `'jwt'`: bearer access tokens and rotating refresh tokens, no
 * cookie. `'hybrid'`: login gives both.
 */
export type AuthMode = 'session' | 'jwt' | 'hybrid';
