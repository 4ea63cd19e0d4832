import type { Adapter, AppSpec } from './servers/app-spec.js';
import type { Credential } from './support/credentials.js';

/** The servers the bench started, for the variants' store options. */
export interface BenchServers {
  redisUrl: string;
  /** Only for variants that need PostgreSQL (started when one of them is available). */
  postgresUrl?: string;
}

/** A feature a variant needs that may land from another branch: without it the row says "not available". */
export type Requirement =
  /** The Redis store accepts `store.nearCache` and turns on Redis client tracking. */
  | { storeOption: 'nearCache' }
  /** The module accepts this `store.type`. */
  | { storeType: 'postgres' };

export interface Variant {
  /** Unique; also the variant's key prefix in Redis. */
  id: string;
  label: string;
  adapter: Adapter;
  app: (servers: BenchServers) => AppSpec;
  /** How the guarded route is authenticated; null for the floor, which has only the unguarded route. */
  credential: Credential | null;
  requires?: Requirement;
  needsPostgres?: boolean;
  /** Count the Redis bytes one session with two small data keys adds, under this variant's prefix. */
  countBytesPerSession?: boolean;
  /**
   * `floor`: the unguarded slices of each pair are taken on the adapter's floor app, not on this
   * app's own `GET /open`, for a peer whose middleware runs on every route: its own unguarded
   * route pays most of what its guarded one does, so a ratio against it would hide the cost.
   */
  unguardedBaseline?: 'floor';
}

/**
 * The key prefix of a variant's app. Those whose bytes per session are counted keep their
 * library's default, `sess:` (this module's and connect-redis's alike), so the count is what an
 * app gets (a longer prefix is in every key); the others get one of their own.
 */
export function keyPrefixOf(variant: Pick<Variant, 'id' | 'countBytesPerSession'>): string {
  return variant.countBytesPerSession ? DEFAULT_KEY_PREFIX : `b:${variant.id}:`;
}

const DEFAULT_KEY_PREFIX = 'sess:';

type ModuleMode = Extract<AppSpec, { kind: 'module' }>['mode'];
type StoreChoice = 'memory' | 'redis' | 'near-cache' | 'postgres';

function storeOption(choice: StoreChoice, servers: BenchServers, keyPrefix: string): Record<string, unknown> {
  switch (choice) {
    case 'memory':
      return { type: 'memory' };
    case 'redis':
      return { type: 'redis', url: servers.redisUrl, keyPrefix };
    case 'near-cache':
      return { type: 'redis', url: servers.redisUrl, keyPrefix, nearCache: { maxEntries: 10_000 } };
    case 'postgres':
      // The bench's PostgreSQL is new and empty: the store creates its tables.
      return { type: 'postgres', connectionString: servers.postgresUrl, migrate: true };
  }
}

interface ModuleVariant {
  id: string;
  label: string;
  mode: ModuleMode;
  store: StoreChoice;
  credential: Credential;
  revocation?: 'per-request' | 'stateless';
  requires?: Requirement;
  countBytesPerSession?: boolean;
}

/** Variants of this module, on each adapter. */
const MODULE_VARIANTS: ModuleVariant[] = [
  { id: 'session-redis', label: 'session mode, Redis', mode: 'session', store: 'redis', credential: 'module-cookie', countBytesPerSession: true },
  { id: 'session-memory', label: 'session mode, memory store', mode: 'session', store: 'memory', credential: 'module-cookie' },
  { id: 'session-near-cache', label: 'session mode, Redis + near cache', mode: 'session', store: 'near-cache', credential: 'module-cookie', requires: { storeOption: 'nearCache' } },
  { id: 'session-postgres', label: 'session mode, PostgreSQL', mode: 'session', store: 'postgres', credential: 'module-cookie', requires: { storeType: 'postgres' } },
  { id: 'jwt-stateless', label: 'jwt mode, stateless', mode: 'jwt', store: 'redis', credential: 'module-bearer', revocation: 'stateless' },
  { id: 'jwt-per-request', label: 'jwt mode, per-request revocation', mode: 'jwt', store: 'redis', credential: 'module-bearer', revocation: 'per-request' },
  { id: 'hybrid-cookie', label: 'hybrid mode, cookie, Redis', mode: 'hybrid', store: 'redis', credential: 'module-cookie' },
];

/** PostgreSQL is measured on Express only, to keep a full run within its time. */
const EXPRESS_ONLY = new Set(['session-postgres']);

function moduleVariants(adapter: Adapter): Variant[] {
  return MODULE_VARIANTS.filter((module) => adapter === 'express' || !EXPRESS_ONLY.has(module.id)).map((module) => {
    const id = `${adapter}-${module.id}`;
    const countBytesPerSession = module.countBytesPerSession === true && adapter === 'express';
    return {
      id,
      label: module.label,
      adapter,
      credential: module.credential,
      requires: module.requires,
      needsPostgres: module.store === 'postgres',
      countBytesPerSession,
      app: (servers) => ({
        kind: 'module',
        adapter,
        mode: module.mode,
        store: storeOption(module.store, servers, keyPrefixOf({ id, countBytesPerSession })),
        ...(module.revocation && { revocation: module.revocation }),
      }),
    };
  });
}

function floor(adapter: Adapter): Variant {
  return { id: `${adapter}-floor`, label: 'unguarded floor (no SessionModule)', adapter, credential: null, app: () => ({ kind: 'plain', adapter }) };
}

function getex(adapter: Adapter): Variant {
  const id = `${adapter}-getex`;
  return {
    id,
    label: 'hand-written guard: cookie + one GETEX',
    adapter,
    credential: 'cookie-in-body',
    countBytesPerSession: adapter === 'express',
    app: (servers) => ({ kind: 'getex', adapter, redisUrl: servers.redisUrl, keyPrefix: keyPrefixOf({ id, countBytesPerSession: adapter === 'express' }) }),
  };
}

function expressSession(rolling: boolean): Variant {
  const id = `express-express-session${rolling ? '-rolling' : ''}`;
  return {
    id,
    label: `express-session + connect-redis${rolling ? ', rolling' : ''}`,
    adapter: 'express',
    credential: 'set-cookie',
    countBytesPerSession: rolling,
    // The recipe mounts the middleware app-wide: it loads a session on GET /open too.
    unguardedBaseline: 'floor',
    app: (servers) => ({ kind: 'express-session', adapter: 'express', redisUrl: servers.redisUrl, keyPrefix: keyPrefixOf({ id, countBytesPerSession: rolling }), rolling }),
  };
}

const PASSPORT_JWT: Variant = {
  id: 'express-passport-jwt',
  label: '@nestjs/passport + passport-jwt (NestJS docs)',
  adapter: 'express',
  credential: 'docs-bearer',
  app: () => ({ kind: 'passport-jwt', adapter: 'express' }),
};

/**
 * Every row, in the order each round measures them. Each floor comes right before its
 * adapter's session-redis row, whose unguarded route is the same app with SessionModule: the
 * pair gives the module's tax on a route without a guard.
 */
export const VARIANTS: Variant[] = [
  floor('express'),
  ...moduleVariants('express'),
  getex('express'),
  expressSession(true),
  expressSession(false),
  PASSPORT_JWT,
  floor('fastify'),
  ...moduleVariants('fastify'),
  getex('fastify'),
];
