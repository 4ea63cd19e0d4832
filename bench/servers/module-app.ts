import { Controller, Get, HttpCode, Module, Post, UseGuards, type CanActivate, type DynamicModule, type Type } from '@nestjs/common';
import {
  AuthenticatedGuard,
  CurrentSession,
  CurrentUser,
  JwtGuard,
  Session,
  SessionGuard,
  SessionModule,
  type SessionModuleOptions,
} from '../../src/index.js';
import { BENCH_PASSWORD, BENCH_SECRET, type AppSpec } from './app-spec.js';
import { OpenController } from './open.controller.js';

type ModuleSpec = Extract<AppSpec, { kind: 'module' }>;

const GUARDS: Record<ModuleSpec['mode'], Type<CanActivate>> = {
  session: SessionGuard,
  jwt: JwtGuard,
  hybrid: AuthenticatedGuard,
};

function guardedController(guard: Type<CanActivate>): Type<unknown> {
  @Controller()
  class GuardedController {
    @UseGuards(guard)
    @Get('guarded')
    guarded(@CurrentUser('id') id: string): { id: string } {
      return { id };
    }

    @UseGuards(guard)
    @Post('write')
    @HttpCode(200)
    write(@CurrentSession() session: Session): { ok: true } {
      session.set('theme', 'dark');
      session.set('cart', 3);
      return { ok: true };
    }
  }
  return GuardedController;
}

/**
 * The module as an app would configure it, with the built-in routes for login. Login
 * throttling is off: the bench logs in a handful of times, and its counters would otherwise
 * be counted among the keys a session adds.
 */
@Module({})
export class ModuleBenchApp {
  static register(spec: ModuleSpec): DynamicModule {
    const options: SessionModuleOptions = {
      mode: spec.mode,
      secret: BENCH_SECRET,
      validateUser: async (username, password) => (password === BENCH_PASSWORD ? { id: username } : null),
      // The store as the variant writes it: it may name a store type or option of another branch.
      store: spec.store as unknown as SessionModuleOptions['store'],
      loginThrottle: false,
      ...(spec.mode !== 'session' && {
        jwt: { keys: [{ kid: 'bench', alg: 'HS256' as const, secret: BENCH_SECRET }], revocation: spec.revocation ?? 'per-request' },
      }),
    };
    return {
      module: ModuleBenchApp,
      imports: [SessionModule.forRoot({ ...options, routes: true })],
      controllers: [OpenController, guardedController(GUARDS[spec.mode])],
    };
  }
}
