import type { INestApplicationContext } from '@nestjs/common';
import type { AuthUser } from '../core/auth-user.js';
import type { CsrfTokens } from '../core/csrf-token.js';
import { SessionAuthError } from '../core/errors.js';
import { Session } from '../core/session.js';
import type { SessionData } from '../core/session-data.js';
import { SessionManager } from '../core/session-manager.js';
import type { ResolvedSessionOptions } from '../core/session-options.js';
import { CSRF_TOKENS, RESOLVED_SESSION_OPTIONS } from '../nest/session.constants.js';

export interface TestLoginOptions {
  /** Session data the session starts with, as if set before the login. Default: none. */
  data?: Partial<SessionData> & Record<string, unknown>;
  /** Whether the login counts as made over HTTPS (it names a `secure: 'auto'` cookie `__Host-…`). Default: false, as supertest talks plain HTTP. */
  https?: boolean;
  /** Stored with the session, shown in the session list. Default: `'SessionTesting'`. */
  userAgent?: string;
  /** Stored with the session. Default: `'127.0.0.1'`. */
  ip?: string;
  /** The username the login proved, which `confirmPassword` checks again. Default: none (confirmPassword then answers false). */
  username?: string;
}

/** A logged-in session, as a test client presents it. */
export interface TestLogin {
  /** The user as stored (id, roles, `userFields`). */
  user: AuthUser;
  /** The session's public id, as in `GET /auth/sessions` and `revokeSession`. */
  sessionId: string;
  /** `name=value` of the cookies the login set (session and hybrid mode, the jwt refresh cookie), for `.set('Cookie', cookie)`; null without one. */
  cookie: string | null;
  /** The bearer access token in jwt and hybrid mode; null in session mode. */
  accessToken: string | null;
  /** The refresh token in jwt and hybrid mode (null when it travels in the refresh cookie, or in session mode). */
  refreshToken: string | null;
  /** The session's CSRF token when `csrf: { token: true }` and a cookie; else null. */
  csrfToken: string | null;
  /**
   * The headers a request sends to be this user: `Cookie` when there is a cookie (and the CSRF
   * header with `csrf.token`), else `Authorization: Bearer …`. For supertest's `.set(headers)`.
   */
  headers: Record<string, string>;
}

/**
 * Logs users in for an app's own e2e tests, without the login route or a password: the session
 * is created by the app's SessionModule in the app's store (memory, Redis, any), exactly as a
 * login creates it, so guards, roles, the session list and logout treat it as any other.
 *
 *     const auth = SessionTesting.from(app); // an INestApplication or a compiled TestingModule
 *     const { cookie } = await auth.login({ id: 'u1', roles: ['admin'] });
 */
export class SessionTesting {
  private constructor(
    private readonly manager: SessionManager,
    private readonly options: ResolvedSessionOptions,
    private readonly csrfTokens: CsrfTokens | null,
  ) {}

  /** The helper for an app (or a compiled TestingModule) that imports SessionModule.forRoot(). */
  static from(app: Pick<INestApplicationContext, 'get'>): SessionTesting {
    let manager: SessionManager;
    try {
      manager = app.get(SessionManager, { strict: false });
    } catch (error) {
      throw new SessionAuthError(
        'SessionTesting.from(app) found no SessionModule in the app: pass the INestApplication or compiled TestingModule of an app whose root module imports SessionModule.forRoot() or forRootAsync().',
        { cause: error },
      );
    }
    const options = app.get<symbol, ResolvedSessionOptions>(RESOLVED_SESSION_OPTIONS, { strict: false });
    const csrfTokens = app.get<symbol, CsrfTokens | null>(CSRF_TOKENS, { strict: false });
    return new SessionTesting(manager, options, csrfTokens);
  }

  /**
   * Logs `user` in on a new session in the app's store: `maxSessionsPerUser` applies and a
   * `login.succeeded` event is emitted, as for a real login. `user` must be an `AuthUser`
   * (`id` a non-empty string or a safe integer); only `userFields` besides id and roles are kept.
   */
  async login(user: AuthUser, options: TestLoginOptions = {}): Promise<TestLogin> {
    const cookies: string[] = [];
    const session = new Session(
      { cookieHeader: undefined, https: options.https ?? false, userAgent: options.userAgent ?? 'SessionTesting', ip: options.ip ?? '127.0.0.1' },
      { setCookie: (serialized) => cookies.push(serialized.split(';')[0]!), preventCaching: () => undefined },
    );
    for (const [key, value] of Object.entries(options.data ?? {})) session.set(key, value);
    session.loginName = options.username ?? null;
    const tokens = await this.manager.login(session, user);
    const cookie = cookies.length > 0 ? cookies.join('; ') : null;
    const csrfToken = this.csrfTokens !== null && session.token !== null && session.ref !== null ? this.csrfTokens.issue(session.ref) : null;
    const headers: Record<string, string> = {};
    if (cookie !== null) {
      headers.Cookie = cookie;
      const csrfHeader = this.options.csrf?.token?.headerName;
      if (csrfToken !== null && csrfHeader) headers[csrfHeader] = csrfToken;
    } else if (tokens !== null) {
      headers.Authorization = `Bearer ${tokens.accessToken}`;
    }
    return {
      user: session.authenticatedUser!,
      sessionId: session.id!,
      cookie,
      accessToken: tokens?.accessToken ?? null,
      refreshToken: tokens?.refreshToken ? tokens.refreshToken : null,
      csrfToken,
      headers,
    };
  }
}
