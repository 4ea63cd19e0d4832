import { Controller, HttpCode, Put, type Type } from '@nestjs/common';
import type { Duration } from '../core/duration.js';
import { RequireFreshLogin } from '../nest/guards/fresh-login.guard.js';

/**
 * `PUT /demo/fresh`: a stand-in for a sensitive action (change the e-mail, delete the account).
 * 204 while the password was proved within `window` (`FRESH_LOGIN_WINDOW`), else 401 with
 * `reauthenticate: true`, until `POST /auth/confirm-password` renews the proof. A class per
 * window, made at start-up, since decorators take their arguments when the class is defined.
 */
export function demoFreshController(window: Duration): Type {
  @Controller('demo')
  class DemoFreshController {
    @Put('fresh')
    @RequireFreshLogin(window)
    @HttpCode(204)
    fresh(): void {}
  }
  return DemoFreshController;
}
