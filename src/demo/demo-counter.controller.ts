import { setTimeout as sleep } from 'node:timers/promises';
import { BadRequestException, Controller, HttpCode, Inject, Post, Query, UseGuards } from '@nestjs/common';
import type { Session } from '../core/session.js';
import { AuthService } from '../nest/auth.service.js';
import { CurrentSession } from '../nest/decorators.js';
import { AuthenticatedGuard } from '../nest/guards/authenticated.guard.js';

/**
 * `POST /demo/counter`: increments the session key `counter` under the session lock and answers
 * `{ value }`. With `?lock=off` it does the same read-modify-write on the data read when the
 * request began, to show the updates concurrent requests then lose. Both spend WORK_MS between
 * reading and writing, as a handler doing I/O there would: without it, on the memory store a
 * request can run from read to write before any other gets a turn.
 */
const WORK_MS = 1;

@Controller('demo')
export class DemoCounterController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  @Post('counter')
  @HttpCode(200)
  @UseGuards(AuthenticatedGuard)
  async increment(@CurrentSession() session: Session, @Query('lock') lock?: string): Promise<{ value: number }> {
    if (lock === 'off') return { value: await increment(session) };
    if (lock !== undefined) throw new BadRequestException('Use ?lock=off, or leave lock out.');
    // 200 requests at once queue for one lock: wait longer than the default 2 s.
    return { value: await this.auth.withSessionLock(session, 'counter', increment, { waitMs: 10_000 }) };
  }
}

async function increment(session: Session): Promise<number> {
  const value = (session.get<number>('counter') ?? 0) + 1;
  await sleep(WORK_MS);
  session.set('counter', value);
  return value;
}
