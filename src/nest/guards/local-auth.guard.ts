import { BadRequestException, Injectable, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { AuthUser } from '../../core/auth-user.js';
import { LOCAL_STRATEGY_NAME } from '../session.constants.js';

const MAX_CREDENTIAL_LENGTH = 1024;

/**
 * Username/password login through passport-local and the app's `validateUser`. A body that is
 * not `{ username, password }` with two non-empty strings is a 400 before any password check;
 * wrong credentials are a 401 that reads the same for unknown users and wrong passwords.
 */
@Injectable()
export class LocalAuthGuard extends AuthGuard(LOCAL_STRATEGY_NAME) {
  override canActivate(context: ExecutionContext) {
    const body = context.switchToHttp().getRequest<{ body?: unknown }>().body;
    if (!isCredentialBody(body)) {
      throw new BadRequestException(
        `Send a JSON body {"username": string, "password": string}, each 1 to ${MAX_CREDENTIAL_LENGTH} characters.`,
      );
    }
    return super.canActivate(context);
  }

  override handleRequest<TUser = AuthUser>(error: unknown, user: TUser | false): TUser {
    if (error) throw error;
    if (!user) throw new UnauthorizedException('Invalid username or password.');
    return user;
  }
}

function isCredentialBody(body: unknown): body is { username: string; password: string } {
  if (typeof body !== 'object' || body === null) return false;
  const { username, password } = body as Record<string, unknown>;
  return [username, password].every(
    (value) => typeof value === 'string' && value.length > 0 && value.length <= MAX_CREDENTIAL_LENGTH,
  );
}
