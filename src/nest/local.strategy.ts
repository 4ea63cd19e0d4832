import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { isAuthUser, type AuthUser } from '../core/auth-user.js';
import { SessionAuthError } from '../core/errors.js';
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
    if (!isAuthUser(user)) {
      throw new SessionAuthError('validateUser returned something that is not an AuthUser: return { id: string, roles?: string[] } or null.');
    }
    return user;
  }
}
