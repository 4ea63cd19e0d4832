import { ForbiddenException, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthUser } from '../../core/auth-user.js';
import { forTransport } from '../graphql/graphql-errors.js';
import { ROLES_KEY } from '../session.constants.js';
import { httpPartsOf } from '../transports/transport-context.js';
import { SocketSessions } from '../websockets/socket-sessions.js';

/**
 * Checks `@Roles(...)`: the user needs at least one of the listed roles (403 otherwise). Runs
 * after an auth guard, which puts the user on the request: `@UseGuards(AuthenticatedGuard, RolesGuard)`.
 * On resolvers the refusal is a GraphQL error with code FORBIDDEN; on gateways a WsException.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(@Inject(Reflector) private readonly reflector: Reflector) {}

  @Inject(SocketSessions) private readonly sockets!: SocketSessions;

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const required = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!required || required.length === 0) return true;
    const http = httpPartsOf(context);
    if (http === null) return this.sockets.authorizeRoles(context, required);
    const user = http.getRequest<{ user?: AuthUser }>().user;
    try {
      if (!user) throw new UnauthorizedException();
      if (!required.some((role) => user.roles?.includes(role))) throw new ForbiddenException();
      return true;
    } catch (error) {
      throw forTransport(context, error, http.getResponse(), true);
    }
  }
}
