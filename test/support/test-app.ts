/**
 * A small Nest app per scenario, over Express or Fastify, with the session module configured by
 * the test. Routes: the built-in /auth routes plus a few guarded probes under /probe.
 */
import 'reflect-metadata';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Inject,
  Param,
  Post,
  Put,
  UseGuards,
  type INestApplication,
  type LoggerService,
  type ModuleMetadata,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  AuthenticatedGuard,
  AuthService,
  JwtGuard,
  CurrentSession,
  CurrentUser,
  Public,
  Roles,
  RolesGuard,
  SessionGuard,
  SessionModule,
  type AuthUser,
  type Session,
  type SessionModuleOptions,
} from '../../src/index.js';

export type AdapterName = 'express' | 'fastify';
export const ADAPTERS: AdapterName[] = ['express', 'fastify'];

export const TEST_SECRET = 'test-secret-that-is-long-enough-0123456789';

/** alice/alice-password (user), root/root-password (admin). */
export const TEST_USERS: Record<string, { password: string; user: AuthUser }> = {
  alice: { password: 'alice-password', user: { id: 'u-alice', name: 'Alice', roles: ['user'] } },
  root: { password: 'root-password', user: { id: 'u-root', name: 'Root', roles: ['admin'] } },
};

export async function validateTestUser(username: string, password: string): Promise<AuthUser | null> {
  const account = TEST_USERS[username];
  return account && account.password === password ? account.user : null;
}

@Controller('probe')
export class ProbeController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  @Get('public')
  open(): { ok: true } {
    return { ok: true };
  }

  @Get('guarded')
  @UseGuards(SessionGuard)
  guarded(@CurrentUser() user: AuthUser): { user: AuthUser } {
    return { user };
  }

  @Get('bearer')
  @UseGuards(JwtGuard)
  bearer(@CurrentUser() user: AuthUser): { user: AuthUser } {
    return { user };
  }

  @Get('any')
  @UseGuards(AuthenticatedGuard)
  any(@CurrentUser() user: AuthUser, @CurrentSession() session: Session): { user: AuthUser; via: string | null } {
    return { user, via: session.via };
  }

  @Get('admin')
  @UseGuards(AuthenticatedGuard, RolesGuard)
  @Roles('admin')
  admin(): { admin: true } {
    return { admin: true };
  }

  /** Anonymous data: creates a session only because something is stored. */
  @Put('anonymous/:key')
  putAnonymous(@CurrentSession() session: Session, @Param('key') key: string, @Body() body: { value?: unknown }) {
    session.set(key, body?.value);
    return session.toJSON();
  }

  @Get('data')
  @UseGuards(SessionGuard)
  data(@CurrentSession() session: Session): Record<string, unknown> {
    return session.toJSON();
  }

  @Put('data/:key')
  @UseGuards(SessionGuard)
  put(@CurrentSession() session: Session, @Param('key') key: string, @Body() body: { value?: unknown }) {
    if (typeof body !== 'object' || body === null || !('value' in body)) throw new BadRequestException('value required');
    session.set(key, body.value);
    return { ok: true };
  }

  /** Privilege change: grants a role and rotates the session ID. */
  @Post('promote')
  @UseGuards(AuthenticatedGuard)
  async promote(@CurrentUser() user: AuthUser, @CurrentSession() session: Session) {
    const tokens = await this.auth.rotate(session, { ...user, roles: [...(user.roles ?? []), 'admin'] });
    return { ok: true, ...tokens };
  }

  /** Password change: other sessions end, this one is rotated and kept. */
  @Post('password-changed')
  @UseGuards(AuthenticatedGuard)
  async passwordChanged(@CurrentSession() session: Session) {
    const { revoked, tokens } = await this.auth.revokeOtherSessions(session);
    return { revoked, ...tokens };
  }

  /** Admin action: end every session of a user. */
  @Post('disable/:userId')
  @Public()
  async disable(@Param('userId') userId: string) {
    return { revoked: await this.auth.revokeAllSessions(userId) };
  }
}

export interface TestAppOptions {
  adapter: AdapterName;
  session?: Partial<SessionModuleOptions>;
  /** Mount the built-in routes. Default: true. */
  routes?: boolean | { prefix?: string };
  imports?: ModuleMetadata['imports'];
  providers?: ModuleMetadata['providers'];
  controllers?: ModuleMetadata['controllers'];
  /** Honour X-Forwarded-Proto (trust proxy). Default: false. */
  trustProxy?: boolean;
  /** Where the app's Nest log lines go. Default: nowhere. */
  logger?: LoggerService;
}

export async function createTestApp(options: TestAppOptions): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      SessionModule.forRoot({
        secret: TEST_SECRET,
        validateUser: validateTestUser,
        userFields: ['name'],
        ...options.session,
        routes: options.routes ?? true,
      }),
      ...(options.imports ?? []),
    ],
    controllers: [ProbeController, ...(options.controllers ?? [])],
    providers: options.providers ?? [],
  }).compile();
  return startApp(moduleRef, options.adapter, options.trustProxy ?? false, options.logger);
}

export async function startApp(
  moduleRef: { createNestApplication: (adapter?: never) => INestApplication },
  adapter: AdapterName,
  trustProxy = false,
  logger: LoggerService | false = false,
): Promise<INestApplication> {
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter({ trustProxy }) as never)
      : moduleRef.createNestApplication();
  if (adapter === 'express' && trustProxy) app.getHttpAdapter().getInstance().set('trust proxy', 1);
  app.useLogger(logger);
  await app.init();
  if (adapter === 'fastify') await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** The session cookie pair (`name=value`) from a response, for sending back in a Cookie header. */
export function sessionCookieFrom(response: { headers: Record<string, unknown> }, name = 'sid'): string {
  const raw = response.headers['set-cookie'];
  const cookies = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
  const match = cookies.find((cookie) => cookie.startsWith(`${name}=`));
  if (!match) throw new Error(`no ${name} cookie in response; got ${JSON.stringify(cookies)}`);
  return match.split(';')[0];
}
