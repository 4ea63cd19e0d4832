/**
 * The shared SessionStore contract (test/support/session-store-contract.ts) over
 * PostgresSessionStore on a private PostgreSQL.
 */
import { PostgresSessionStore } from '../src/stores/postgres/postgres-session-store.js';
import { describeSessionStoreContract } from './support/session-store-contract.js';
import { startPostgresServer, uniqueTableName, type PostgresServerHandle } from './support/postgres-server.js';

describe('PostgresSessionStore over a private PostgreSQL', () => {
  let server: PostgresServerHandle;

  // One table for the suite, migrated once: every test works with users and refs of its own,
  // so none sees another's rows.
  const tableName = uniqueTableName('contract');

  beforeAll(async () => {
    server = await startPostgresServer();
    const { type: _type, ...options } = server.storeOptions({ tableName });
    await (await PostgresSessionStore.connect(options)).close();
  });

  afterAll(async () => {
    await server?.dispose();
  });

  describeSessionStoreContract('PostgresSessionStore', async () => {
    const { type: _type, ...options } = server.storeOptions({ tableName, migrate: false });
    const store = await PostgresSessionStore.connect(options);
    return { store, cleanup: () => store.close() };
  });
});
