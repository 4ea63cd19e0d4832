/**
 * The user as the app's `validateUser` returns it. It is stored in the session and handed back
 * by `@CurrentUser()` and `GET /auth/me`, so return only what is safe to keep and show:
 * never a password hash.
 */
export interface AuthUser {
  id: string;
  roles?: string[];
  [claim: string]: unknown;
}

/** The app's own credential check: the user, or null for an unknown user or a wrong password. */
export type ValidateUser = (username: string, password: string) => Promise<AuthUser | null>;

export function isAuthUser(value: unknown): value is AuthUser {
  if (typeof value !== 'object' || value === null) return false;
  const { id, roles } = value as Partial<AuthUser>;
  return (
    typeof id === 'string' &&
    id.length > 0 &&
    (roles === undefined || (Array.isArray(roles) && roles.every((role) => typeof role === 'string')))
  );
}
