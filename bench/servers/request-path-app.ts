import { Controller, Get, Inject, Injectable, Module, UnauthorizedException, UseGuards, type CanActivate, type ExecutionContext, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { SessionManager } from '../../src/core/session-manager.js';
import { CurrentUser, SessionGuard, SessionModule, type AuthUser } from '../../src/index.js';
import { preventCredentialCaching, requestFacts, responseSink } from '../../src/nest/http-adapter.js';
import { BENCH_PASSWORD, BENCH_SECRET } from './app-spec.js';
import { OpenController } from './open.controller.js';

interface StepRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: AuthUser;
}

/**
 * What the steps of a guarded request do, each step doing everything the one before does and
 * one thing more, so that adjacent routes differ by one step: Nest's own guard and parameter
 * machinery, the no-store answer headers, the request facts, opening the session, and the
 * shipped SessionGuard (which adds RequestSessions' once-per-request memo, the CSRF check and
 * the trace context). Session mode on the memory store, so no network is in any step.
 */
type Step = 'guard' | 'no-store' | 'request-facts' | 'open-session';

abstract class StepGuard implements CanActivate {
  private manager?: SessionManager;

  constructor(@Inject(ModuleRef) private readonly moduleRef: ModuleRef) {}

  protected abstract readonly step: Step;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<StepRequest>();
    const response: unknown = http.getResponse();
    if (this.step === 'guard') {
      request.user = { id: 'bench-user' };
      return true;
    }
    preventCredentialCaching(request, response);
    if (this.step === 'no-store') {
      request.user = { id: 'bench-user' };
      return true;
    }
    const facts = requestFacts(request);
    const sink = responseSink(response);
    if (this.step === 'request-facts') {
      request.user = { id: 'bench-user' };
      return true;
    }
    this.manager ??= this.moduleRef.get(SessionManager, { strict: false });
    const user = (await this.manager.open(facts, sink)).authenticatedUser;
    if (user === null) throw new UnauthorizedException();
    request.user = user;
    return true;
  }
}

const stepGuard = (step: Step): Type<CanActivate> => {
  @Injectable()
  class Guard extends StepGuard {
    protected readonly step = step;
  }
  return Guard;
};

const STEP_GUARDS = {
  guard: stepGuard('guard'),
  noStore: stepGuard('no-store'),
  requestFacts: stepGuard('request-facts'),
  openSession: stepGuard('open-session'),
};

@Controller()
class StepController {
  @UseGuards(STEP_GUARDS.guard)
  @Get('step/guard')
  guard(@CurrentUser('id') id: string): { id: string } {
    return { id };
  }

  @UseGuards(STEP_GUARDS.noStore)
  @Get('step/no-store')
  noStore(@CurrentUser('id') id: string): { id: string } {
    return { id };
  }

  @UseGuards(STEP_GUARDS.requestFacts)
  @Get('step/request-facts')
  requestFacts(@CurrentUser('id') id: string): { id: string } {
    return { id };
  }

  @UseGuards(STEP_GUARDS.openSession)
  @Get('step/open-session')
  openSession(@CurrentUser('id') id: string): { id: string } {
    return { id };
  }

  @UseGuards(SessionGuard)
  @Get('guarded')
  guarded(@CurrentUser('id') id: string): { id: string } {
    return { id };
  }
}

/** The routes of `npm run bench:path`, in the order they add steps (README, "Performance"). */
export const REQUEST_PATH_ROUTES = ['open', 'step/guard', 'step/no-store', 'step/request-facts', 'step/open-session', 'guarded'] as const;

@Module({
  imports: [
    SessionModule.forRoot({
      secret: BENCH_SECRET,
      store: { type: 'memory' },
      loginThrottle: false,
      routes: true,
      validateUser: async (username, password) => (password === BENCH_PASSWORD ? { id: username } : null),
    }),
  ],
  controllers: [OpenController, StepController],
  providers: Object.values(STEP_GUARDS),
})
export class RequestPathBenchApp {}
