/**
 * The shape of the data an app keeps in its sessions, for typed `session.get(key)` and
 * `session.set(key, value)`. Empty here: an app declares its keys by augmenting it, as
 * express-session users do with theirs:
 *
 *     declare module 'nestjs-session-auth' {
 *       interface SessionData { cart: string[] }
 *     }
 *
 * Declared keys are typed both ways (a wrong value does not compile); other keys stay usable,
 * their values `unknown` (or whatever `get<T>(key)` asserts). Values travel as JSON, so declare
 * JSON shapes (no Date, Map or class instances: they come back as strings or plain objects).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the app's augmentation
export interface SessionData {}

/** The keys the data type declares, as strings (the only keys a session has). */
export type DeclaredSessionKey<Data> = keyof Data & string;

/** What `get(key)` gives: the declared type for a declared key, `unknown` for any other. */
export type SessionValue<Data, Key extends string> = Key extends DeclaredSessionKey<Data> ? Data[Key] : unknown;

/**
 * `T`, but not inferred from the place a result is assigned to (TypeScript's `NoInfer`, in a
 * form older compilers read too): `const n: number = session.get('x')` must not make the
 * unknown value a number silently.
 */
export type Uninferred<T> = [T][T extends unknown ? 0 : never];
