import { createParamDecorator, SetMetadata, UseInterceptors, type ExecutionContext } from '@nestjs/common';
import type { AuthUser } from '../core/auth-user.js';
import { SessionAuthError } from '../core/errors.js';
import { IS_PUBLIC_KEY, NEEDS_SESSION_KEY, ROLES_KEY } from './session.constants.js';
import { RequestSessions } from './request-sessions.js';
import { SessionInterceptor } from './session.interceptor.js';
import { httpPartsOf } from './transports/transport-context.js';
import { SocketSessions } from './websockets/socket-sessions.js';

/** Exempts a route (or controller) from SessionGuard / AuthenticatedGuard registered globally. */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);

/** Roles of which the user needs at least one; checked by RolesGuard. */
export const Roles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);

/**
 * The authenticated user (set by the auth guards), or one of its properties: `@CurrentUser('id')`.
 * On controllers, resolvers and gateways alike.
 */
export const CurrentUser = createParamDecorator((property: keyof AuthUser | undefined, context: ExecutionContext) => {
  const http = httpPartsOf(context);
  const user = http === null ? SocketSessions.userOf(context) : http.getRequest<{ user?: AuthUser }>().user;
  return property === undefined ? user : user?.[property];
});

const sessionParam = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const http = httpPartsOf(context);
  const session = http === null ? SocketSessions.sessionOf(context) : RequestSessions.current(http.getRequest());
  // The interceptor this decorator puts on the handler opened it; only a gateway without a session gets here.
  if (!session) throw new SessionAuthError('@CurrentSession() found no session: on a gateway, put an auth guard (SessionGuard, JwtGuard or AuthenticatedGuard) on the handler.');
  return session;
});

/**
 * The request's Session: `get`, `set`, `delete`. Changes are saved before the response is sent.
 * Puts SessionInterceptor on the handler, which opens the session even when no auth guard ran
 * and saves it afterwards; handlers without this decorator never pay for either.
 */
export function CurrentSession(): ParameterDecorator {
  return (target, propertyKey, parameterIndex) => {
    if (propertyKey !== undefined) {
      const handler = (target as Record<string | symbol, object>)[propertyKey];
      // Once per handler, however many parameters take the session.
      if (Reflect.getMetadata(NEEDS_SESSION_KEY, handler) !== true) {
        Reflect.defineMetadata(NEEDS_SESSION_KEY, true, handler);
        UseInterceptors(SessionInterceptor)(target, propertyKey, Object.getOwnPropertyDescriptor(target, propertyKey)!);
      }
    }
    sessionParam()(target, propertyKey, parameterIndex);
  };
}
