/**
 * The test support's private PostgreSQL (test/support/postgres-server.ts): it starts, answers,
 * stops and starts again with its data, and leaves nothing behind.
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { startPostgresServer, type PostgresServerHandle } from './support/postgres-server.js';

describe('test/support/postgres-server', () => {
  let server: PostgresServerHandle;

  beforeAll(async () => {
    server = await startPostgresServer();
  });

  afterAll(async () => {
    await server?.dispose();
  });

  async function query(text: string): Promise<unknown[]> {
    const client = new pg.Client({ connectionString: server.connectionString });
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  }

  it('answers queries over its own socket', async () => {
    expect(await query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('stops (unreachable), starts again with its data, and dispose removes its directory', async () => {
    if (server.external) return expect(server.stopServer()).rejects.toThrow(/never stop/);
    await query('CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)');
    await server.stopServer();
    await expect(query('SELECT 1')).rejects.toThrow();
    await server.startServer();
    expect(await query('SELECT v FROM kept')).toEqual([{ v: 7 }]);
    await server.dispose();
    expect(existsSync(server.socketDir!)).toBe(false);
  });
});
