import { boundedOperation } from '../../core/bounded-operation.js';
import { SessionConfigurationError } from '../../core/errors.js';
import type { PostgresPool, PostgresPoolClient, PostgresStoreOptions } from '../../core/store-options.js';

export const PG_PACKAGE = 'pg';

type QueryResult = Awaited<ReturnType<PostgresPool['query']>>;

/**
 * The pool the options describe, and whether the store made it (and so ends it). `pg` is an
 * optional peer: it is loaded here, only when the app asks for a PostgreSQL store, and its
 * absence fails start-up with the command that installs it.
 */
export async function connectPool(options: PostgresStoreOptions, operationTimeoutMs: number): Promise<{ pool: PostgresPool; ownsPool: boolean }> {
  const sources = [options.connectionString, options.pool, options.poolOptions].filter((source) => source !== undefined);
  if (sources.length !== 1) {
    throw new SessionConfigurationError(
      'store',
      `was given ${sources.length} PostgreSQL connection sources`,
      'Give exactly one of `connectionString`, `pool` or `poolOptions`.',
    );
  }
  if (options.pool) return { pool: options.pool, ownsPool: false };
  const { Pool } = await loadPg();
  const pool: PostgresPool & { on(event: 'error', listener: () => void): unknown } = new Pool({
    // Fail fast instead of queueing while the database is away; statements the database runs are bounded too.
    connectionTimeoutMillis: operationTimeoutMs,
    statement_timeout: operationTimeoutMs,
    // A connection that stops answering (a partition without a reset) fails its query and leaves the
    // pool, instead of holding its pool slot forever: statement_timeout needs a server that answers.
    query_timeout: operationTimeoutMs,
    idle_in_transaction_session_timeout: operationTimeoutMs * 5,
    ...(options.connectionString !== undefined ? { connectionString: options.connectionString } : options.poolOptions),
  });
  // An idle connection the database dropped (a restart) is reported here; without a listener it would crash the app.
  pool.on('error', () => undefined);
  return { pool, ownsPool: true };
}

/** `pg`, or a clear start-up error naming it; `specifier` is for tests. */
export async function loadPg(specifier = PG_PACKAGE): Promise<{ Pool: new (config: Record<string, unknown>) => PostgresPool & { on(event: 'error', listener: () => void): unknown } }> {
  let loaded: { default?: unknown; Pool?: unknown };
  try {
    loaded = (await import(specifier)) as typeof loaded;
  } catch (error) {
    throw new SessionConfigurationError(
      'store.type',
      `is 'postgres' but the package \`${specifier}\` could not be loaded (${(error as Error).message})`,
      `Install the optional peer dependency: npm install ${specifier}`,
    );
  }
  // pg is CommonJS: its Pool is on the default export under ESM, on the module itself under require.
  const pg = (loaded.Pool ? loaded : loaded.default) as { Pool: never };
  return pg;
}

/**
 * Queries of one store: each bounded by operationTimeoutMs on the client side (a database that
 * stops answering gives 503 within the bound), every failure reported as the store being unavailable.
 */
export class PostgresQueries {
  constructor(
    readonly pool: PostgresPool,
    private readonly operationTimeoutMs: number,
  ) {}

  query(operation: string, text: string, values: unknown[] = []): Promise<QueryResult> {
    return boundedOperation(operation, this.pool.query(text, values), this.operationTimeoutMs);
  }

  /**
   * A short transaction on one connection, bounded as a whole; the statements inside run with
   * the bound as their statement timeout too (SET LOCAL), whichever pool they came from.
   */
  transaction<T>(operation: string, work: (client: PostgresPoolClient) => Promise<T>): Promise<T> {
    return boundedOperation(operation, this.inTransaction(work), this.operationTimeoutMs);
  }

  private async inTransaction<T>(work: (client: PostgresPoolClient) => Promise<T>): Promise<T> {
    const client = await checkOut(this.pool);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL statement_timeout = ${Math.ceil(this.operationTimeoutMs)}`);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      broken = error as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      // A connection whose transaction failed is dropped, not reused in an unknown state.
      client.release(broken);
    }
  }
}

/**
 * A client taken from the pool with an 'error' listener while the store holds it: pg emits
 * 'error' on a checked-out client whose connection dies (the pool listens only while it is
 * idle), and unheard that event would crash the app. The failing query reports the failure.
 * `release` takes the listener off again, so checkouts do not pile listeners up.
 */
export async function checkOut(pool: PostgresPool): Promise<PostgresPoolClient> {
  const client = await pool.connect();
  const events = client as PostgresPoolClient & Partial<Pick<NodeJS.EventEmitter, 'on' | 'off'>>;
  const ignore = () => undefined;
  events.on?.('error', ignore);
  return {
    query: (text, values) => client.query(text, values),
    release: (error) => {
      events.off?.('error', ignore);
      client.release(error);
    },
  };
}
