import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { AuthUser } from '../core/auth-user.js';
import { SessionAuthError } from '../core/errors.js';
import { IS_PUBLIC_KEY, NEEDS_SESSION_KEY, ROLES_KEY } from './session.constants.js';
import { RequestSessions } from './request-sessions.js';
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
  if (!session) {
    throw new SessionAuthError(
      '@CurrentSession() found no session: is SessionModule imported in this application (its interceptor opens sessions)?',
    );
  }
  return session;
});

/**
 * The request's Session: `get`, `set`, `delete`. Changes are saved before the response is sent.
 * Marks the handler so the session is opened for it even when no auth guard ran.
 */
export function CurrentSession(): ParameterDecorator {
  return (target, propertyKey, parameterIndex) => {
    if (propertyKey !== undefined) {
      const handler = (target as Record<string | symbol, object>)[propertyKey];
      Reflect.defineMetadata(NEEDS_SESSION_KEY, true, handler);
    }
    sessionParam()(target, propertyKey, parameterIndex);
  };
}
