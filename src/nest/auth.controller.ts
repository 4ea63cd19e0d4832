import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Req,
  Res,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import type { TokenPair } from '../core/jwt/token-issuer.js';
import type { AuthUser } from '../core/auth-user.js';
import type { CsrfTokens } from '../core/csrf-token.js';
import type { Session } from '../core/session.js';
import { AuthService } from './auth.service.js';
import { CurrentSession, CurrentUser, Public } from './decorators.js';
import { AuthenticatedGuard } from './guards/authenticated.guard.js';
import { LocalAuthGuard } from './guards/local-auth.guard.js';
import { CsrfGuard } from './guards/csrf.guard.js';
import { CSRF_TOKENS } from './session.constants.js';
import { PasswordConfirmation } from './password-confirmation.js';
import { toHttpError } from './http-errors.js';
import type { SessionInfo } from '../core/session-manager.js';

/** The built-in routes, mounted when SessionModule is given `routes`. See the README for the answers. */
export class AuthController {
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(CSRF_TOKENS) private readonly csrfTokens: CsrfTokens | null,
    @Inject(PasswordConfirmation) private readonly confirmation: PasswordConfirmation,
  ) {}

  @Public()
  @UseGuards(LocalAuthGuard)
  @Post('login')
  @HttpCode(200)
  async login(
    @CurrentUser() user: AuthUser,
    @CurrentSession() session: Session,
  ): Promise<{ user: AuthUser; csrfToken?: string } & Partial<TokenPair>> {
    const tokens = await this.auth.login(session, user);
    const csrfToken = this.csrfTokenOf(session);
    // The user as stored (id, roles, userFields), not whatever validateUser returned.
    return { user: session.authenticatedUser ?? user, ...withoutEmptyRefreshToken(tokens), ...(csrfToken !== null && { csrfToken }) };
  }

  /** The session's CSRF token (`csrf.token`); 404 when the token is off, 401 without a session cookie. */
  @Public()
  @Get('csrf')
  csrf(@CurrentSession() session: Session): { token: string } {
    if (this.csrfTokens === null) throw new NotFoundException('CSRF tokens are off: turn them on with csrf: { token: true }.');
    const token = this.csrfTokenOf(session);
    if (token === null) throw new UnauthorizedException('No session cookie: there is no session to bind a CSRF token to.');
    return { token };
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  async refresh(
    @Body() body: unknown,
    @Req() request: object,
    @Res({ passthrough: true }) response: object,
  ): Promise<Partial<TokenPair>> {
    return withoutEmptyRefreshToken(await this.auth.refresh(refreshTokenOf(body), { request, response }));
  }

  /** Public so that a client whose session already expired can still clear its cookie; never from another site. */
  @Public()
  @UseGuards(CsrfGuard)
  @Post('logout')
  @HttpCode(204)
  async logout(@CurrentSession() session: Session, @Body() body: unknown): Promise<void> {
    await this.auth.logout(session, refreshTokenOf(body));
  }

  @UseGuards(AuthenticatedGuard)
  @Get('me')
  me(@CurrentUser() user: AuthUser): { user: AuthUser } {
    return { user };
  }

  @UseGuards(AuthenticatedGuard)
  @Get('sessions')
  sessions(@CurrentSession() session: Session): Promise<SessionInfo[]> {
    return this.auth.listSessions(session);
  }

  @UseGuards(AuthenticatedGuard)
  @Delete('sessions/:id')
  @HttpCode(204)
  async revoke(@CurrentUser('id') userId: AuthUser['id'], @CurrentSession() session: Session, @Param('id') id: string): Promise<void> {
    if (id === session.id) {
      await this.auth.logout(session);
      return;
    }
    if (!(await this.auth.revokeSession(userId, id))) throw new NotFoundException('No such session.');
  }

  @UseGuards(AuthenticatedGuard)
  @Post('logout-all')
  @HttpCode(204)
  async logoutAll(@CurrentSession() session: Session): Promise<void> {
    await this.auth.logoutAll(session);
  }

  /**
   * Renews the password proof for `@RequireFreshLogin()` routes: 204, 401 for a wrong password,
   * 400 for a malformed body, 429 when throttled (the login's counters, under the login's username).
   */
  @UseGuards(AuthenticatedGuard)
  @Post('confirm-password')
  @HttpCode(204)
  async confirmPassword(
    @CurrentSession() session: Session,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: object,
  ): Promise<void> {
    const password = typeof body === 'object' && body !== null ? (body as { password?: unknown }).password : undefined;
    if (typeof password !== 'string' || password.length === 0 || password.length > MAX_PASSWORD_LENGTH) {
      throw new BadRequestException(`Send a JSON body {"password": string}, 1 to ${MAX_PASSWORD_LENGTH} characters.`);
    }
    let confirmed: boolean;
    try {
      confirmed = await this.confirmation.confirm(session, password);
    } catch (error) {
      throw toHttpError(error, response);
    }
    if (!confirmed) throw new UnauthorizedException('Invalid password.');
  }

  /** Only cookie sessions have one: bearer requests need no CSRF token. */
  private csrfTokenOf(session: Session): string | null {
    if (this.csrfTokens === null || session.via !== 'cookie' || session.ref === null) return null;
    return this.csrfTokens.issue(session.ref);
  }
}

const MAX_PASSWORD_LENGTH = 1024;

function refreshTokenOf(body: unknown): unknown {
  return typeof body === 'object' && body !== null ? (body as { refreshToken?: unknown }).refreshToken : undefined;
}

/** With the refresh token in a cookie, the JSON answer leaves it out. */
function withoutEmptyRefreshToken(tokens: TokenPair | null): Partial<TokenPair> {
  if (tokens === null) return {};
  if (tokens.refreshToken !== '') return tokens;
  const { refreshToken: _cookie, ...rest } = tokens;
  return rest;
}

/** The controller class mounted under `prefix`; a subclass per module so each can have its own path. */
export function mountAuthController(prefix: string): typeof AuthController {
  class MountedAuthController extends AuthController {}
  Controller(prefix)(MountedAuthController);
  return MountedAuthController;
}
