/**
 * What one bench app process runs, passed from the bench to the child as JSON (BENCH_APP).
 * Every app answers `GET /open` (unguarded) and, when it has a guard, `GET /guarded`,
 * `POST /write` (sets two small session keys, for the bytes-per-session count) and a way to log in.
 */
export type Adapter = 'express' | 'fastify';

export type AppSpec =
  /** The floor: a Nest app with only the unguarded route, no SessionModule. */
  | { kind: 'plain'; adapter: Adapter }
  /** This module; `store` is the `store` option as written (it may name options this branch does not know). */
  | { kind: 'module'; adapter: Adapter; mode: 'session' | 'jwt' | 'hybrid'; store: Record<string, unknown>; revocation?: 'per-request' | 'stateless' }
  /** The practical limit: parse the cookie, one GETEX. */
  | { kind: 'getex'; adapter: Adapter; redisUrl: string; keyPrefix: string }
  /** express-session + connect-redis as their READMEs and the NestJS docs show them. */
  | { kind: 'express-session'; adapter: 'express'; redisUrl: string; keyPrefix: string; rolling: boolean }
  /** The NestJS docs' JWT recipe: @nestjs/passport + passport-jwt with a string secret. */
  | { kind: 'passport-jwt'; adapter: 'express' }
  /** `npm run bench:path`: routes that each add one step of a guarded request (request-path-app.ts). */
  | { kind: 'request-path'; adapter: Adapter };

/** Messages a bench app sends its parent over IPC. */
export type AppMessage =
  | { type: 'ready'; port: number }
  /** Boot failed; `option` is the SessionModule option a configuration error names. */
  | { type: 'failed'; message: string; option?: string };

export const BENCH_SECRET = 'bench-secret-that-is-at-least-32-characters-long';
export const BENCH_PASSWORD = 'bench-password';
export const OPEN_BODY = { ok: true } as const;
