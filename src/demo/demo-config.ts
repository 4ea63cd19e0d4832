import { randomBytes } from 'node:crypto';
import type { SessionModuleOptions } from '../core/session-options.js';
import { readDemoStore } from './demo-store.js';
import { readDemoOpsOptions } from './demo-ops.js';

export interface DemoConfig {
  host: string;
  port: number;
  adapter: 'express' | 'fastify';
  trustProxy: boolean;
  session: Omit<SessionModuleOptions, 'validateUser'>;
  /** How recent a password proof `PUT /demo/fresh` wants. */
  freshLoginWindow: string;
  /** GRAPHQL=1: POST /graphql (demo-graphql.ts). */
  graphql: boolean;
  /** WEBSOCKETS=1: a gateway on /ws (demo-ws.ts). */
  websockets: boolean;
  warnings: string[];
}

/** Reads the demo's environment (documented in the README); a bad value stops the demo with a message. */
export function readDemoConfig(env: NodeJS.ProcessEnv): DemoConfig {
  const warnings: string[] = [];
  const adapter = env.ADAPTER ?? 'express';
  if (adapter !== 'express' && adapter !== 'fastify') throw new Error(`ADAPTER is "${adapter}": use express or fastify.`);
  const port = env.PORT ? Number(env.PORT) : 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT is "${env.PORT}": use a port number.`);
  const mode = env.AUTH_MODE ?? 'session';
  if (mode !== 'session' && mode !== 'jwt' && mode !== 'hybrid') {
    throw new Error(`AUTH_MODE is "${mode}": use session, jwt or hybrid.`);
  }
  let jwtSecret = env.JWT_SECRET;
  if (mode !== 'session' && !jwtSecret) {
    jwtSecret = randomBytes(32).toString('base64url');
    warnings.push('JWT_SECRET is not set: using a random key, so tokens stop working when the demo restarts.');
  }
  const jwt =
    mode === 'session'
      ? {}
      : {
          jwt: {
            keys: [{ kid: 'demo', alg: 'HS256' as const, secret: jwtSecret! }],
            ...(env.ACCESS_TOKEN_TTL ? { accessTokenTtl: env.ACCESS_TOKEN_TTL } : {}),
            ...(env.REFRESH_TOKEN_TTL ? { refreshTokenTtl: env.REFRESH_TOKEN_TTL } : {}),
            ...(env.JWT_REVOCATION ? { revocation: env.JWT_REVOCATION as 'per-request' | 'stateless' } : {}),
            ...(env.REFRESH_REUSE_GRACE ? { refreshReuseGrace: env.REFRESH_REUSE_GRACE } : {}),
          },
        };
  let secret = env.SESSION_SECRET;
  if (!secret) {
    secret = randomBytes(32).toString('base64url');
    warnings.push('SESSION_SECRET is not set: using a random secret, so sessions end when the demo restarts.');
  }
  const store = readDemoStore(env);
  if (env.NEAR_CACHE === '1' && store.type !== 'redis') {
    warnings.push(`NEAR_CACHE=1 needs REDIS_URL: the ${store.type === 'postgres' ? 'PostgreSQL' : 'memory'} store has no near cache.`);
  }
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    adapter,
    trustProxy: env.TRUST_PROXY === '1',
    session: {
      mode,
      ...jwt,
      secret,
      store,
      ...(env.IDLE_TIMEOUT ? { idleTimeout: env.IDLE_TIMEOUT } : {}),
      ...(env.ABSOLUTE_TIMEOUT ? { absoluteTimeout: env.ABSOLUTE_TIMEOUT } : {}),
      ...(env.CSRF_TOKEN === '1' ? { csrf: { token: true } } : {}),
      ...readSessionCap(env),
      ...readDemoOpsOptions(env),
    },
    freshLoginWindow: env.FRESH_LOGIN_WINDOW ?? '5m',
    graphql: env.GRAPHQL === '1',
    websockets: env.WEBSOCKETS === '1',
    warnings,
  };
}

/** MAX_SESSIONS_PER_USER (a number) and MAX_SESSIONS_POLICY (evict-oldest, the default, or refuse). */
function readSessionCap(env: NodeJS.ProcessEnv): Pick<SessionModuleOptions, 'maxSessionsPerUser'> {
  const policy = env.MAX_SESSIONS_POLICY ?? 'evict-oldest';
  if (policy !== 'evict-oldest' && policy !== 'refuse') {
    throw new Error(`MAX_SESSIONS_POLICY is "${policy}": use evict-oldest or refuse.`);
  }
  if (env.MAX_SESSIONS_PER_USER === undefined) {
    if (env.MAX_SESSIONS_POLICY !== undefined) throw new Error('MAX_SESSIONS_POLICY needs MAX_SESSIONS_PER_USER: set both.');
    return {};
  }
  const limit = Number(env.MAX_SESSIONS_PER_USER);
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new Error(`MAX_SESSIONS_PER_USER is "${env.MAX_SESSIONS_PER_USER}": use a whole number of at least 1.`);
  }
  return { maxSessionsPerUser: { limit, onLimit: policy } };
}
