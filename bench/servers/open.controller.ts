import { Controller, Get } from '@nestjs/common';
import { OPEN_BODY } from './app-spec.js';

/** The unguarded route every bench app has, registered first so routers match it first. */
@Controller()
export class OpenController {
  @Get('open')
  open(): typeof OPEN_BODY {
    return OPEN_BODY;
  }
}
