import { Controller, Get, Header, Inject, NotFoundException } from '@nestjs/common';
import type { ResolvedSessionOptions } from '../core/session-options.js';
import { Public } from './decorators.js';
import { RESOLVED_SESSION_OPTIONS } from './session.constants.js';

/** Publishes the public verification keys (RS256, ES256, EdDSA) as a JWK Set; 404 when there are none. */
@Controller('.well-known')
export class JwksController {
  constructor(@Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions) {}

  @Public()
  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  jwks(): object {
    const jwks = this.options.jwt?.keys.jwks();
    if (!jwks || jwks.keys.length === 0) throw new NotFoundException();
    return jwks;
  }
}
