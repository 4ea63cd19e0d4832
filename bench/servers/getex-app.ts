import { randomBytes } from 'node:crypto';
import {
  Controller,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Module,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { parse } from 'cookie';
import { Redis } from 'ioredis';
import type { AppSpec } from './app-spec.js';
import { OpenController } from './open.controller.js';

type GetexSpec = Extract<AppSpec, { kind: 'getex' }>;

const IDLE_SECONDS = 1800;
const COOKIE = 'g';
const SPEC = Symbol('getex spec');

@Injectable()
class GetexRedis implements OnApplicationShutdown {
  readonly client: Redis;
  readonly keyPrefix: string;

  constructor(@Inject(SPEC) spec: GetexSpec) {
    this.client = new Redis(spec.redisUrl);
    this.keyPrefix = spec.keyPrefix;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.quit();
  }
}

/** As little as a cookie session can do: read the cookie, one GETEX that reads and slides. */
@Injectable()
export class GetexGuard implements CanActivate {
  constructor(@Inject(GetexRedis) private readonly redis: GetexRedis) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ headers: { cookie?: string }; user?: unknown; sid?: string }>();
    const sid = request.headers.cookie === undefined ? undefined : parse(request.headers.cookie)[COOKIE];
    if (sid === undefined) throw new UnauthorizedException();
    const stored = await this.redis.client.getex(this.redis.keyPrefix + sid, 'EX', IDLE_SECONDS);
    if (stored === null) throw new UnauthorizedException();
    request.user = JSON.parse(stored);
    request.sid = sid;
    return true;
  }
}

@Controller()
class GetexController {
  constructor(@Inject(GetexRedis) private readonly redis: GetexRedis) {}

  /** The bench builds the cookie from the answer, so no adapter-specific Set-Cookie code is needed. */
  @Post('login')
  @HttpCode(200)
  async login(@Req() request: { body?: { username?: string } }): Promise<{ cookie: string }> {
    const sid = randomBytes(32).toString('base64url');
    const user = { id: request.body?.username ?? 'anonymous' };
    await this.redis.client.set(this.redis.keyPrefix + sid, JSON.stringify(user), 'EX', IDLE_SECONDS);
    return { cookie: `${COOKIE}=${sid}` };
  }

  @UseGuards(GetexGuard)
  @Get('guarded')
  guarded(@Req() request: { user: { id: string } }): { id: string } {
    return { id: request.user.id };
  }

  /** Two small keys, stored as the whole JSON value like the simplest session stores do. */
  @UseGuards(GetexGuard)
  @Post('write')
  @HttpCode(200)
  async write(@Req() request: { user: { id: string }; sid: string }): Promise<{ ok: true }> {
    const value = JSON.stringify({ ...request.user, theme: 'dark', cart: 3 });
    await this.redis.client.set(this.redis.keyPrefix + request.sid, value, 'EX', IDLE_SECONDS);
    return { ok: true };
  }
}

@Module({})
export class GetexBenchApp {
  static register(spec: GetexSpec): DynamicModule {
    return {
      module: GetexBenchApp,
      controllers: [OpenController, GetexController],
      providers: [{ provide: SPEC, useValue: spec }, GetexRedis, GetexGuard],
    };
  }
}
