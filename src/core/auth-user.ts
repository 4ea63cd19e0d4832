import { InvalidSessionDataError } from './errors.js';

/**
 * The user as the app's `validateUser` returns it. What is stored in the session, and handed
 * back by `@CurrentUser()` and `GET /auth/me`, is only `id`, `roles` and the fields named in the
 * `userFields` option: whatever else the app returns (a password hash, a whole ORM entity) is
 * dropped at login.
 */
export interface AuthUser {
  /**
   * A non-empty string, or a safe integer (TypeORM's and Prisma's default keys). Numbers are given
   * back as numbers; indexes, events and the JWT `sub` use the decimal string, so `7` and `'7'`
   * name the same user.
   */
  id: string | number;
  roles?: string[];
  [claim: string]: unknown;
}

/** The app's own credential check: the user, or null for an unknown user or a wrong password. */
export type ValidateUser = (username: string, password: string) => Promise<AuthUser | null>;

const USER_SHAPE_HINT =
  'Return { id: string | number, roles?: string[] } (plus the fields listed in `userFields`) from validateUser, or null for bad credentials.';

/** The id as the store, the per-user index, events and the JWT `sub` know it. */
export function userIdOf(user: Pick<AuthUser, 'id'>): string {
  return String(user.id);
}

/**
 * The part of a user that may be stored and shown: `id`, `roles` and the whitelisted `fields`,
 * copied so later changes to the app's object do not leak in. Throws InvalidSessionDataError
 * (a 400, never a 500) with what to return instead when the value is not a usable user.
 */
export function toSessionUser(value: unknown, fields: readonly string[]): AuthUser {
  if (typeof value !== 'object' || value === null) throw new InvalidSessionDataError(`validateUser gave ${typeof value}. ${USER_SHAPE_HINT}`);
  const source = value as Record<string, unknown>;
  const id = Object.hasOwn(source, 'id') ? source.id : undefined;
  const validId = (typeof id === 'string' && id.length > 0) || Number.isSafeInteger(id);
  if (!validId) throw new InvalidSessionDataError(`The user's id is ${describe(id)}. ${USER_SHAPE_HINT}`);
  const roles = Object.hasOwn(source, 'roles') ? source.roles : undefined;
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((role) => typeof role === 'string'))) {
    throw new InvalidSessionDataError(`The user's roles are ${describe(roles)}. ${USER_SHAPE_HINT}`);
  }
  const user: AuthUser = { id: id as string | number };
  if (roles !== undefined) user.roles = [...(roles as string[])];
  for (const field of fields) {
    if (!Object.hasOwn(source, field) || source[field] === undefined) continue;
    // The user is stored as JSON: a BigInt or a cyclic object would only fail later, as a 500.
    try {
      JSON.stringify(source[field]);
    } catch {
      throw new InvalidSessionDataError(`The user's field ${JSON.stringify(field)} (in userFields) cannot be stored as JSON. ${USER_SHAPE_HINT}`);
    }
    user[field] = source[field];
  }
  return user;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'number') return `the number ${value}, not a safe integer`;
  return Array.isArray(value) ? 'not a list of strings' : `of type ${typeof value}`;
}
