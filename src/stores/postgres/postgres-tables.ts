import { SessionConfigurationError } from '../../core/errors.js';
import { MIGRATION_001_SQL } from './migrations/001-sessions.js';

export const DEFAULT_SCHEMA = 'public';
export const DEFAULT_TABLE_NAME = 'session_auth_sessions';

/** Plain identifiers only, short enough for the longest suffix to stay within PostgreSQL's 63 bytes. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_SCHEMA_LENGTH = 63;
const MAX_TABLE_LENGTH = 40;

/** The quoted, schema-qualified names of the store's tables, ready to put into SQL text. */
export interface PostgresTables {
  schema: string;
  sessions: string;
  locks: string;
  nonces: string;
  throttle: string;
  /** Unquoted, for RateLimiterPostgres (which quotes them itself) and for messages. */
  names: { schema: string; sessions: string; throttle: string };
  /** The migration with these names in place of its psql variables. */
  migrationSql: string;
}

export function postgresTables(schema = DEFAULT_SCHEMA, tableName = DEFAULT_TABLE_NAME): PostgresTables {
  assertIdentifier('store.schema', schema, MAX_SCHEMA_LENGTH);
  assertIdentifier('store.tableName', tableName, MAX_TABLE_LENGTH);
  const unquoted: Record<string, string> = {
    schema,
    sessions: tableName,
    sessions_by_user: `${tableName}_by_user`,
    sessions_by_expiry: `${tableName}_by_expiry`,
    locks: `${tableName}_locks`,
    nonces: `${tableName}_nonces`,
    throttle: `${tableName}_throttle`,
  };
  const qualified = (name: string) => `${quote(schema)}.${quote(name)}`;
  const migrationSql = MIGRATION_001_SQL.replace(/:"([a-z_]+)"/g, (whole, variable: string) => {
    const value = unquoted[variable];
    if (value === undefined) throw new Error(`migration 001 uses an unknown variable ${whole}`);
    return quote(value);
  });
  return {
    schema: quote(schema),
    sessions: qualified(unquoted.sessions),
    locks: qualified(unquoted.locks),
    nonces: qualified(unquoted.nonces),
    throttle: qualified(unquoted.throttle),
    names: { schema, sessions: tableName, throttle: unquoted.throttle },
    migrationSql,
  };
}

/** Validated first, so quoting is a formality: no name the store puts into SQL can carry a quote. */
function quote(identifier: string): string {
  return `"${identifier}"`;
}

function assertIdentifier(option: string, value: unknown, maxLength: number): void {
  if (typeof value !== 'string' || !IDENTIFIER.test(value) || value.length > maxLength) {
    throw new SessionConfigurationError(
      option,
      `is ${JSON.stringify(value)}`,
      `Use letters, digits and _ (not starting with a digit), at most ${maxLength} characters.`,
    );
  }
}
