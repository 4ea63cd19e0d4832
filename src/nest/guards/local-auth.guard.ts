import { BadRequestException, ForbiddenException, Inject, Injectable, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { AuthUser } from '../../core/auth-user.js';
import type { AuthEvent, AuthEventListener } from '../../core/auth-events.js';
import { refusesCrossSite } from '../../core/cross-site.js';
import { LoginThrottledError, type LoginThrottle } from '../../core/login-throttle.js';
import { createHmac } from 'node:crypto';
import type { ResolvedSessionOptions } from '../../core/session-options.js';
import { requestFacts } from '../http-adapter.js';
import { toHttpError } from '../http-errors.js';
import { RequestSessions } from '../request-sessions.js';
import { inRequestTrace } from '../tracing/request-trace.js';
import { AUTH_EVENTS, LOCAL_STRATEGY_NAME, LOGIN_THROTTLE, RESOLVED_SESSION_OPTIONS } from '../session.constants.js';

const MAX_CREDENTIAL_LENGTH = 1024;

/**
 * Username/password login through passport-local and the app's `validateUser`. A body that is
 * not `{ username, password }` with two non-empty strings is a 400 before any password check;
 * wrong credentials are a 401 that reads the same for unknown users and wrong passwords.
 * Attempts are throttled per account and per address before the password is checked (429).
 */
@Injectable()
export class LocalAuthGuard extends AuthGuard(LOCAL_STRATEGY_NAME) {
  constructor(
    @Inject(LOGIN_THROTTLE) private readonly throttle: LoginThrottle | null,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Inject(AUTH_EVENTS) private readonly emit: AuthEventListener,
    @Inject(RequestSessions) private readonly sessions: RequestSessions,
  ) {
    super();
  }

  override canActivate(context: ExecutionContext): Promise<boolean> {
    return inRequestTrace(context.switchToHttp().getRequest(), () => this.authenticate(context));
  }

  private async authenticate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<{ body?: unknown }>();
    const body = request.body;
    if (!isCredentialBody(body)) {
      throw new BadRequestException(
        `Send a JSON body {"username": string, "password": string}, each 1 to ${MAX_CREDENTIAL_LENGTH} characters.`,
      );
    }
    const { ip, fetch } = requestFacts(request as Parameters<typeof requestFacts>[0]);
    const failed = (reason: Extract<AuthEvent, { type: 'login.failed' }>['reason']) =>
      this.emit({ type: 'login.failed', reason, account: failedLoginAccount(this.options.secrets[0], body.username), ip: ip ?? null });
    // Login CSRF: another site must not log the visitor into an account of its choosing.
    // In jwt mode only a refresh cookie could be planted this way.
    const setsCookie = this.options.mode !== 'jwt' || this.options.jwt?.refreshTokenTransport === 'cookie';
    if (setsCookie && refusesCrossSite(this.options.csrf, fetch)) {
      failed('cross-site');
      throw new ForbiddenException('Cross-site request refused.');
    }
    try {
      await this.throttle?.attempt(body.username, ip);
    } catch (error) {
      if (error instanceof LoginThrottledError) failed('throttled');
      throw toHttpError(error, http.getResponse());
    }
    let allowed: boolean;
    try {
      allowed = (await super.canActivate(context)) as boolean;
    } catch (error) {
      if (error instanceof UnauthorizedException) failed('bad-credentials');
      throw error;
    }
    try {
      await this.throttle?.succeeded(body.username, ip);
      // The login records a password proof under this name, so that confirmPassword can ask again.
      (await this.sessions.load(context)).loginName = body.username;
    } catch (error) {
      throw toHttpError(error, http.getResponse());
    }
    return allowed;
  }

  override handleRequest<TUser = AuthUser>(error: unknown, user: TUser | false): TUser {
    if (error) throw error;
    if (!user) throw new UnauthorizedException('Invalid username or password.');
    return user;
  }
}

/**
 * Failed usernames are logged as a short HMAC under the module secret: people type passwords
 * into username fields, and a plain hash could be tested offline against password lists.
 */
export function failedLoginAccount(secret: string, username: string): string {
  return createHmac('sha256', secret).update(username).digest('base64url').slice(0, 12);
}

function isCredentialBody(body: unknown): body is { username: string; password: string } {
  if (typeof body !== 'object' || body === null) return false;
  const { username, password } = body as Record<string, unknown>;
  return [username, password].every(
    (value) => typeof value === 'string' && value.length > 0 && value.length <= MAX_CREDENTIAL_LENGTH,
  );
}
