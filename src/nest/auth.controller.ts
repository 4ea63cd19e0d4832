import {
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
  UseGuards,
} from '@nestjs/common';
import type { TokenPair } from '../core/jwt/token-issuer.js';
import type { AuthUser } from '../core/auth-user.js';
import type { Session } from '../core/session.js';
import type { SessionInfo } from '../core/session-manager.js';
import { AuthService } from './auth.service.js';
import { CurrentSession, CurrentUser, Public } from './decorators.js';
import { AuthenticatedGuard } from './guards/authenticated.guard.js';
import { LocalAuthGuard } from './guards/local-auth.guard.js';
import { SameSiteGuard } from './guards/same-site.guard.js';

/** The built-in routes, mounted when SessionModule is given `routes`. See the README for the answers. */
export class AuthController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  @Public()
  @UseGuards(LocalAuthGuard)
  @Post('login')
  @HttpCode(200)
  async login(@CurrentUser() user: AuthUser, @CurrentSession() session: Session): Promise<{ user: AuthUser } & Partial<TokenPair>> {
    const tokens = await this.auth.login(session, user);
    // The user as stored (id, roles, userFields), not whatever validateUser returned.
    return { user: session.authenticatedUser ?? user, ...withoutEmptyRefreshToken(tokens) };
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
  @UseGuards(SameSiteGuard)
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
}

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
