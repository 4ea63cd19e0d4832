import { ForbiddenException, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthUser } from '../../core/auth-user.js';
import { ROLES_KEY } from '../session.constants.js';

/**
 * Checks `@Roles(...)`: the user needs at least one of the listed roles (403 otherwise). Runs
 * after an auth guard, which puts the user on the request: `@UseGuards(AuthenticatedGuard, RolesGuard)`.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(@Inject(Reflector) private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!required || required.length === 0) return true;
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (!user) throw new UnauthorizedException();
    if (!required.some((role) => user.roles?.includes(role))) throw new ForbiddenException();
    return true;
  }
}
