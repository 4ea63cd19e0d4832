import { BadRequestException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { toSessionUser, type AuthUser } from '../core/auth-user.js';
import { InvalidSessionDataError } from '../core/errors.js';
import type { ResolvedSessionOptions } from '../core/session-options.js';
import { LOCAL_STRATEGY_NAME, RESOLVED_SESSION_OPTIONS } from './session.constants.js';

/** passport-local, checking credentials with the app's `validateUser`. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, LOCAL_STRATEGY_NAME) {
  constructor(@Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions) {
    super({ usernameField: 'username', passwordField: 'password', session: false });
  }

  async validate(username: string, password: string): Promise<AuthUser> {
    const user = await this.options.validateUser(username, password);
    // One answer for an unknown user and a wrong password, so the response does not tell which (ASVS 6.3.8).
    if (user === null || user === undefined) throw new UnauthorizedException('Invalid username or password.');
    // Only id, roles and the whitelisted fields go on: request.user, the session and the answer.
    try {
      return toSessionUser(user, this.options.userFields);
    } catch (error) {
      // passport hands strategy errors to the guard untranslated: make it the 400 it is, not a 500.
      if (error instanceof InvalidSessionDataError) throw new BadRequestException(error.message);
      throw error;
    }
  }
}
