/**
 * What the PostgreSQL store promises beyond the shared contract: no lost writes under 1,000
 * concurrent requests, no session brought back by writes racing a logout, the migration
 * (idempotent, several instances at once) and the start-up checks, the sweeper (batches, one
 * instance at a time), the app's own pool left open, and the size of a session row.
 */
import type { INestApplication } from '@nestjs/common';
import pg from 'pg';
import { SessionConfigurationError } from '../src/core/errors.js';
import { PostgresSessionStore } from '../src/stores/postgres/postgres-session-store.js';
import { loadPg } from '../src/stores/postgres/postgres-connection.js';
import { http, login, meStatus } from './support/http-helpers.js';
import { startPostgresServer, uniqueTableName, type PostgresServerHandle } from './support/postgres-server.js';
import { makeRecord, peek, uniqueUserId, userRef } from './support/session-store-contract.js';
import { createTestApp } from './support/test-app.js';

let server: PostgresServerHandle;
let admin: pg.Pool;

beforeAll(async () => {
  server = await startPostgresServer();
  admin = new pg.Pool({ connectionString: server.connectionString, max: 3 });
});

afterAll(async () => {
  await admin?.end();
  await server?.dispose();
});

const qualified = (table: string) => `"${server.schema}"."${table}"`;
const count = async (table: string, where = 'true'): Promise<number> =>
  Number((await admin.query(`SELECT count(*) AS n FROM ${qualified(table)} WHERE ${where}`)).rows[0].n);

async function connectStore(extra: Record<string, unknown> = {}): Promise<{ store: PostgresSessionStore; tableName: string }> {
  const tableName = uniqueTableName();
  const { type: _type, ...options } = server.storeOptions({ tableName, ...extra });
  return { store: await PostgresSessionStore.connect(options), tableName };
}

describe('PostgreSQL store under concurrent HTTP traffic', () => {
  let app: INestApplication;
  let tableName: string;

  beforeAll(async () => {
    tableName = uniqueTableName();
    // A generous bound: 1,000 requests queue for the pool's connections on a shared machine.
    app = await createTestApp({ adapter: 'express', session: { store: server.storeOptions({ tableName, operationTimeoutMs: 20_000 }) } });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('200 concurrent requests writing distinct keys on one session keep all 200', async () => {
    const { cookie } = await login(app, 'alice');
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    const statuses = await Promise.all(keys.map((key) => http(app).put(`/probe/data/${key}`).set('Cookie', cookie).send({ value: key }).then((res) => res.status)));
    expect(statuses.filter((status) => status !== 200)).toEqual([]);

    const data = (await http(app).get('/probe/data').set('Cookie', cookie)).body as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual([...keys].sort());
  });

  it('writes racing a logout never bring the session back', async () => {
    for (let round = 0; round < 5; round++) {
      const { cookie } = await login(app, 'root');
      const writes = Array.from({ length: 40 }, (_, i) => http(app).put(`/probe/data/w${i}`).set('Cookie', cookie).send({ value: i }));
      const logout = http(app).post('/auth/logout').set('Cookie', cookie);
      const results = await Promise.all([...writes, logout]);
      expect(results.every((res) => [200, 204, 401].includes(res.status))).toBe(true);
      expect(await meStatus(app, cookie)).toBe(401);
    }
    expect(await count(tableName, "user_id = 'u-root'")).toBe(0);
  });
});

describe('PostgreSQL store writes racing each other and a destroy, at the store', () => {
  it('1,000 concurrent writes of distinct keys on one session keep all 1,000', async () => {
    const { store } = await connectStore({ operationTimeoutMs: 20_000 });
    try {
      const userId = uniqueUserId();
      const ref = userRef(userId);
      await store.create(ref, makeRecord(userId), 60_000);
      const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`);
      const written = await Promise.all(keys.map((key) => store.update(ref, { data: { [key]: JSON.stringify(key) } })));
      expect(written.every(Boolean)).toBe(true);
      const data = (await store.read(ref, peek()))!.data;
      expect(Object.keys(data).sort()).toEqual([...keys].sort());
      for (const key of keys) expect(data[key]).toBe(JSON.stringify(key));
    } finally {
      await store.close();
    }
  });

  it('200 updates racing a destroy leave no row behind, in 10 rounds', async () => {
    const { store, tableName } = await connectStore();
    try {
      for (let round = 0; round < 10; round++) {
        const userId = uniqueUserId();
        const ref = userRef(userId);
        await store.create(ref, makeRecord(userId), 60_000);
        const updates = Array.from({ length: 200 }, (_, i) => store.update(ref, { data: { [`k${i}`]: String(i) } }));
        await Promise.all([...updates.slice(0, 100), store.destroy(ref), ...updates.slice(100)]);
        expect(await store.read(ref, peek())).toBeNull();
        expect(await count(tableName, `digest = '${ref.digest}'`)).toBe(0);
      }
    } finally {
      await store.close();
    }
  });
});

describe('PostgreSQL store start-up', () => {
  it('four instances migrating one new table at once all start, and migrating again changes nothing', async () => {
    const tableName = uniqueTableName();
    const { type: _type, ...options } = server.storeOptions({ tableName });
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresSessionStore.connect(options)));
    const again = await PostgresSessionStore.connect(options);
    await Promise.all([...stores, again].map((store) => store.close()));
    expect(await count(tableName)).toBe(0);
  });

  it('without migrate, a missing table fails start-up naming the option and the SQL file', async () => {
    const started = createTestApp({ adapter: 'express', session: { store: server.storeOptions({ tableName: uniqueTableName(), migrate: false }) } });
    await expect(started).rejects.toThrow(/`store\.migrate`.*do(es)? not exist.*migrate: true.*001_sessions\.sql/s);
  });

  it('refuses a table name that is not a plain identifier, and several connection sources', async () => {
    await expect(PostgresSessionStore.connect({ connectionString: server.connectionString, tableName: 'bad"name' })).rejects.toThrow(/`store\.tableName`/);
    await expect(PostgresSessionStore.connect({ connectionString: server.connectionString, schema: 'x; DROP' })).rejects.toThrow(/`store\.schema`/);
    await expect(PostgresSessionStore.connect({ connectionString: server.connectionString, poolOptions: {} })).rejects.toThrow(
      /exactly one of `connectionString`, `pool` or `poolOptions`/,
    );
  });

  it('names the pg package and how to install it when it cannot be loaded', async () => {
    const failure = loadPg('pg-that-is-not-installed');
    await expect(failure).rejects.toBeInstanceOf(SessionConfigurationError);
    await expect(failure).rejects.toThrow(/npm install pg-that-is-not-installed/);
  });

  it("never ends the app's own pool", async () => {
    const pool = new pg.Pool({ connectionString: server.connectionString, max: 2 });
    try {
      const store = await PostgresSessionStore.connect({ pool, schema: server.schema, tableName: uniqueTableName(), migrate: true });
      await store.close();
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });
});

describe('PostgreSQL store operation bound', () => {
  it('a statement that cannot proceed (its table locked by another session) fails as unavailable within operationTimeoutMs', async () => {
    const { store, tableName } = await connectStore({ operationTimeoutMs: 400 });
    const blocker = await admin.connect();
    try {
      expect((await store.pool.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe('400ms');
      const userId = uniqueUserId();
      const ref = userRef(userId);
      await store.create(ref, makeRecord(userId), 60_000);
      await blocker.query(`BEGIN; LOCK TABLE ${qualified(tableName)} IN ACCESS EXCLUSIVE MODE`);
      const started = Date.now();
      await expect(store.read(ref, peek())).rejects.toThrow(/Session store unavailable during read/);
      await expect(store.create(userRef(userId), makeRecord(userId), 60_000)).rejects.toThrow(/Session store unavailable during create/);
      expect(Date.now() - started).toBeLessThan(2_000);
      await blocker.query('ROLLBACK');
      expect(await store.read(ref, peek())).not.toBeNull();
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
      await store.close();
    }
  });
});

describe('PostgreSQL store sweeper', () => {
  it('deletes expired rows in batches and keeps live ones', async () => {
    const { store, tableName } = await connectStore({ sweepIntervalMs: 3_600_000 });
    try {
      // 1,200 already-expired rows: more than two of the sweeper's batches of 500.
      await admin.query(
        `INSERT INTO ${qualified(tableName)} (digest, tag, handle, created_at, last_seen_at, expires_at, absolute_expires_at)
         SELECT 'expired-' || n, 't', 'h' || n, 0, 0, 1, 1 FROM generate_series(1, 1200) AS n`,
      );
      const live = userRef(uniqueUserId());
      await store.create(live, makeRecord(null), 60_000);
      await store.sweep();
      expect(await count(tableName)).toBe(1);
      expect(await store.read(live, peek())).not.toBeNull();
    } finally {
      await store.close();
    }
  });

  it('skips a run while another instance holds the sweeper lock', async () => {
    const { store, tableName } = await connectStore({ sweepIntervalMs: 3_600_000 });
    const holder = await admin.connect();
    try {
      await admin.query(`INSERT INTO ${qualified(tableName)} (digest, tag, handle, created_at, last_seen_at, expires_at, absolute_expires_at) VALUES ('gone', 't', 'h', 0, 0, 1, 1)`);
      const key = `nestjs-session-auth sweeper ${store.tables.sessions}`;
      await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
      await store.sweep();
      expect(await count(tableName)).toBe(1);
      await holder.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
      await store.sweep();
      expect(await count(tableName)).toBe(0);
    } finally {
      holder.release();
      await store.close();
    }
  });
});

describe('PostgreSQL session row size', () => {
  it('measures a logged-in session with two small data keys (pg_column_size of the row)', async () => {
    const { store, tableName } = await connectStore();
    try {
      const userId = uniqueUserId();
      const ref = userRef(userId);
      await store.create(ref, makeRecord(userId, { data: { theme: '"dark"', visits: '3' } }), 60_000);
      const { rows } = await admin.query(
        `SELECT pg_column_size(s.*) AS row_bytes, pg_column_size(s.data) AS data_bytes FROM ${qualified(tableName)} s WHERE digest = $1`,
        [ref.digest],
      );
      const rowBytes = Number(rows[0].row_bytes);
      console.log(`PostgreSQL session row with two small data keys: ${rowBytes} bytes (pg_column_size of the row; data jsonb ${rows[0].data_bytes} bytes)`);
      expect(rowBytes).toBeGreaterThan(0);
      expect(rowBytes).toBeLessThan(1024);
    } finally {
      await store.close();
    }
  });
});

describe('PostgreSQL store migration into a schema that does not exist yet', () => {
  it('creates the schema and the tables', async () => {
    const schema = uniqueTableName('schema');
    const store = await PostgresSessionStore.connect({ connectionString: server.connectionString, schema, migrate: true });
    try {
      const ref = userRef(uniqueUserId());
      await store.create(ref, makeRecord(null), 60_000);
      expect(await store.read(ref, peek())).not.toBeNull();
    } finally {
      await store.close();
      await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    }
  });
});

describe('PostgreSQL store replay nonces (NonceStore)', () => {
  it('of 50 concurrent calls with one nonce exactly one is new; the nonce is new again once its window is over', async () => {
    const { store } = await connectStore();
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, () => store.rememberNonce('client-a', 'nonce-1', 300)));
      expect(answers.filter(Boolean)).toHaveLength(1);
      expect(await store.rememberNonce('client-b', 'nonce-1', 300)).toBe(true);
      const deadline = Date.now() + 5_000;
      let again = false;
      while (!again && Date.now() < deadline) again = await store.rememberNonce('client-a', 'nonce-1', 300);
      expect(again).toBe(true);
    } finally {
      await store.close();
    }
  });
});
