import {
  Controller,
  Get,
  HttpCode,
  Injectable,
  Module,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RedisStore } from 'connect-redis';
import session from 'express-session';
import { createClient } from 'redis';
import { BENCH_SECRET, type AppSpec } from './app-spec.js';
import { OpenController } from './open.controller.js';

type ExpressSessionSpec = Extract<AppSpec, { kind: 'express-session' }>;

interface SessionRequest {
  session: session.Session & { userId?: string; theme?: string; cart?: number };
}

@Injectable()
class LoggedInGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.switchToHttp().getRequest<SessionRequest>().session.userId === undefined) throw new UnauthorizedException();
    return true;
  }
}

@Controller()
class ExpressSessionController {
  @Post('login')
  @HttpCode(200)
  login(@Req() request: SessionRequest & { body?: { username?: string } }): { ok: true } {
    request.session.userId = request.body?.username ?? 'anonymous';
    return { ok: true };
  }

  @UseGuards(LoggedInGuard)
  @Get('guarded')
  guarded(@Req() request: SessionRequest): { id: string } {
    return { id: request.session.userId! };
  }

  @UseGuards(LoggedInGuard)
  @Post('write')
  @HttpCode(200)
  write(@Req() request: SessionRequest): { ok: true } {
    request.session.theme = 'dark';
    request.session.cart = 3;
    return { ok: true };
  }
}

@Module({ controllers: [OpenController, ExpressSessionController] })
class ExpressSessionBenchModule {}

/**
 * The peer as its documentation sets it up: the NestJS session recipe's
 * `app.use(session({ secret, resave: false, saveUninitialized: false }))`, with connect-redis's
 * README store over a node-redis client (connect-redis 9 does not work over ioredis).
 */
export async function createExpressSessionApp(spec: ExpressSessionSpec): Promise<INestApplication> {
  const client = createClient({ url: spec.redisUrl });
  await client.connect();
  const app = await NestFactory.create(ExpressSessionBenchModule, { logger: ['error'], abortOnError: false });
  app.use(
    session({
      store: new RedisStore({ client, prefix: spec.keyPrefix }),
      secret: BENCH_SECRET,
      resave: false,
      saveUninitialized: false,
      rolling: spec.rolling,
    }),
  );
  return app;
}
