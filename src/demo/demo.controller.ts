import { BadRequestException, Body, Controller, Get, Header, Param, Put, UseGuards } from '@nestjs/common';
import type { Session } from '../core/session.js';
import { CurrentSession, Roles } from '../nest/decorators.js';
import { AuthenticatedGuard } from '../nest/guards/authenticated.guard.js';
import { RolesGuard } from '../nest/guards/roles.guard.js';
import { DEMO_PAGE } from './demo-page.js';

const startedAt = Date.now();

@Controller()
export class DemoController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return DEMO_PAGE;
  }

  /** Unauthenticated JSON route: the baseline `npm run bench` compares guarded routes against. */
  @Get('demo/ping')
  ping(): { ok: true } {
    return { ok: true };
  }

  @Get('admin/stats')
  @UseGuards(AuthenticatedGuard, RolesGuard)
  @Roles('admin')
  stats(): { uptimeSeconds: number; memoryRssBytes: number } {
    return { uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), memoryRssBytes: process.memoryUsage().rss };
  }

  @Get('demo/session')
  @UseGuards(AuthenticatedGuard)
  data(@CurrentSession() session: Session): Record<string, unknown> {
    return session.toJSON();
  }

  @Put('demo/session/:key')
  @UseGuards(AuthenticatedGuard)
  set(@CurrentSession() session: Session, @Param('key') key: string, @Body() body: unknown): Record<string, unknown> {
    if (typeof body !== 'object' || body === null || !('value' in body) || body.value === undefined) {
      throw new BadRequestException('Send a JSON body {"value": ...}.');
    }
    session.set(key, body.value);
    return session.toJSON();
  }
}
