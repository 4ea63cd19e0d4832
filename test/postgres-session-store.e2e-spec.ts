/**
 * The shared SessionStore contract (test/support/session-store-contract.ts) over
 * PostgresSessionStore on a private PostgreSQL, each store in a table of its own.
 */
import { randomToken } from '../src/core/session-token.js';
import { PostgresSessionStore } from '../src/stores/postgres/postgres-session-store.js';
import { describeSessionStoreContract } from './support/session-store-contract.js';
import { startPostgresServer, type PostgresServerHandle } from './support/postgres-server.js';

describe('PostgresSessionStore over a private PostgreSQL', () => {
  let server: PostgresServerHandle;

  beforeAll(async () => {
    server = await startPostgresServer();
  });

  afterAll(async () => {
    await server?.dispose();
  });

  describeSessionStoreContract('PostgresSessionStore', async () => {
    // A fresh table per store instance, so no test sees another one's rows.
    const { type: _type, ...options } = server.storeOptions({ tableName: `contract_${randomToken(6).replace(/-/g, '_').toLowerCase()}` });
    const store = await PostgresSessionStore.connect(options);
    return { store, cleanup: () => store.close() };
  });
});
