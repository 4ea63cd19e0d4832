import { SessionConfigurationError } from '../../core/errors.js';
import type { PostgresQueries } from './postgres-connection.js';
import type { PostgresTables } from './postgres-tables.js';
import { MIGRATION_001_FILE } from './migrations/001-sessions.js';

/** Where the migration ships, for messages: the path inside the installed package. */
export const MIGRATION_PATH = `nestjs-session-auth/dist/stores/postgres/migrations/${MIGRATION_001_FILE}`;

/**
 * Runs the migration in one transaction under a transaction-level advisory lock, so instances
 * starting at once take turns (CREATE ... IF NOT EXISTS alone can still collide on the catalog).
 */
export async function migrate(queries: PostgresQueries, tables: PostgresTables): Promise<void> {
  await queries.transaction('migrate', async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('nestjs-session-auth migrate', 0))");
    // Only when missing: CREATE SCHEMA IF NOT EXISTS would still want CREATE on the database, which an app's role often lacks.
    // Asked by the quoted name: to_regnamespace folds an unquoted one to lower case, missing a mixed-case schema.
    const { rows } = await client.query('SELECT to_regnamespace($1) IS NULL AS missing', [tables.schema]);
    if (rows[0].missing === true) await client.query(`CREATE SCHEMA ${tables.schema}`);
    await client.query(tables.migrationSql);
  });
}

/** Without `migrate`, start-up checks that the tables are there, and says how to create them when not. */
export async function assertTablesExist(queries: PostgresQueries, tables: PostgresTables): Promise<void> {
  const wanted = [tables.sessions, tables.locks, tables.nonces, tables.throttle];
  const { rows } = await queries.query('start-up check', 'SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NULL', [wanted]);
  if (rows.length === 0) return;
  throw new SessionConfigurationError(
    'store.migrate',
    `is off and the table${rows.length > 1 ? 's' : ''} ${rows.map((row) => row.name).join(', ')} do${rows.length > 1 ? '' : 'es'} not exist`,
    `Set store.migrate: true to create them at start-up, or run the migration ${MIGRATION_PATH} (see its header for psql).`,
  );
}
