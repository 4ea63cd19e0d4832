/**
 * Defects a review of the PostgreSQL store found, each proven here on a real private PostgreSQL:
 * a mixed-case schema that migrates once and then fails every later start-up; a hybrid bearer
 * read that rewrites the row on every request once the cookie has idled out; a pool whose
 * connections stopped answering (a partition without a reset) that never recovers; and a shutdown
 * that waits forever for a sweep stuck on such a connection; and a connection dying under a
 * checked-out client (a transaction, the sweeper), whose unheard 'error' event crashes the app.
 */
import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresSessionStore } from '../src/stores/postgres/postgres-session-store.js';
import { getFreePort } from './support/free-port.js';
import { startPostgresServer, uniqueTableName, type PostgresServerHandle } from './support/postgres-server.js';
import { makeRecord, peek, refreshState, uniqueUserId, userRef } from './support/session-store-contract.js';

let server: PostgresServerHandle;
let admin: pg.Pool;

beforeAll(async () => {
  // Private: the proxy below reaches the server through its Unix socket.
  server = await startPostgresServer({ private: true });
  admin = new pg.Pool({ connectionString: server.connectionString, max: 2 });
});

afterAll(async () => {
  await admin?.end();
  await server?.dispose();
});

/**
 * A TCP proxy to the server's socket that can black-hole the connections it carries: they stay
 * open and never answer again, as over a network partition without a reset, while new
 * connections go through (the database itself is fine).
 */
async function startProxy(): Promise<{ url: string; blackHole(): void; close(): Promise<void> }> {
  const socketPath = join(server.socketDir!, `.s.PGSQL.${server.port}`);
  const pairs: Array<[Socket, Socket]> = [];
  const closers: Array<() => void> = [];
  const proxy: Server = createServer((client) => {
    const upstream = createConnection(socketPath);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.pipe(upstream).pipe(client);
    pairs.push([client, upstream]);
  });
  const port = await getFreePort();
  proxy.listen(port, '127.0.0.1');
  await once(proxy, 'listening');
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    blackHole() {
      for (const [client, upstream] of pairs.splice(0)) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
        // Kept open (not destroyed) until close(): no reset ever reaches the pool.
        closers.push(() => {
          client.destroy();
          upstream.destroy();
        });
      }
    },
    async close() {
      for (const close of closers.splice(0)) close();
      for (const [client, upstream] of pairs.splice(0)) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}

/** Whether `pending` settles within `ms` (it is left to settle later either way). */
async function settlesWithin(pending: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([pending.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('PostgreSQL store migration into a mixed-case schema', () => {
  it('starts again with migrate: true once the schema exists', async () => {
    const schema = `Review_${uniqueTableName('schema')}`;
    const options = { connectionString: server.connectionString, schema, migrate: true };
    try {
      await (await PostgresSessionStore.connect(options)).close();
      const again = await PostgresSessionStore.connect(options);
      await again.close();
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });
});

describe('PostgreSQL store hybrid bearer reads once the cookie has idled out', () => {
  it('do not rewrite the row on every request, and still slide the expiry when a slide is due', async () => {
    const tableName = uniqueTableName();
    const store = await PostgresSessionStore.connect({ connectionString: server.connectionString, tableName, migrate: true, sweepIntervalMs: 3_600_000 });
    const rowVersion = async (digest: string) =>
      (await admin.query(`SELECT xmin::text AS version, expires_at FROM "public"."${tableName}" WHERE digest = $1`, [digest])).rows[0];
    try {
      const userId = uniqueUserId();
      const ref = userRef(userId);
      const longAgo = Date.now() - 120_000;
      // The cookie's last activity is two minutes old, past its one-minute idle timeout: bearer reads never move it.
      await store.create(ref, makeRecord(userId, { createdAt: longAgo, lastSeenAt: longAgo, refresh: refreshState() }), 600_000);
      const bearerRead = (now = Date.now()) =>
        store.read(ref, peek({ now, idleTimeoutMs: 600_000, touchIntervalMs: 60_000, idleRule: 'refresh-token', cookieIdleTimeoutMs: 60_000 }));
      const created = await rowVersion(ref.digest);
      for (let i = 0; i < 5; i++) expect(await bearerRead()).not.toBeNull();
      expect((await rowVersion(ref.digest)).version).toBe(created.version);

      // Two minutes on, the expiry is a whole touch interval behind: that read slides it.
      expect(await bearerRead(Date.now() + 120_000)).not.toBeNull();
      const slid = await rowVersion(ref.digest);
      expect(slid.version).not.toBe(created.version);
      expect(Number(slid.expires_at)).toBeGreaterThan(Number(created.expires_at) + 60_000);
    } finally {
      await store.close();
    }
  });
});

describe('PostgreSQL store connections that stop answering (a partition without a reset)', () => {
  it('a pool the store made recovers on new connections instead of waiting on the dead ones forever', async () => {
    const proxy = await startProxy();
    const store = await PostgresSessionStore.connect({
      poolOptions: { connectionString: proxy.url, max: 2 },
      tableName: uniqueTableName(),
      migrate: true,
      operationTimeoutMs: 500,
      sweepIntervalMs: 3_600_000,
    });
    try {
      const userId = uniqueUserId();
      const ref = userRef(userId);
      await store.create(ref, makeRecord(userId), 60_000);
      // Both of the pool's connections in use once, then idle in the pool when they go dead.
      await Promise.all([store.read(ref, peek()), store.read(ref, peek())]);
      proxy.blackHole();
      await expect(store.read(ref, peek())).rejects.toThrow(/Session store unavailable during read/);
      const deadline = Date.now() + 10_000;
      let record = null;
      while (record === null && Date.now() < deadline) record = await store.read(ref, peek()).catch(() => null);
      expect(record).not.toBeNull();
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it("closing the store does not wait forever for a sweep stuck on a dead connection of the app's pool", async () => {
    const proxy = await startProxy();
    const pool = new pg.Pool({ connectionString: proxy.url, max: 2 });
    pool.on('error', () => undefined);
    try {
      const store = await PostgresSessionStore.connect({ pool, tableName: uniqueTableName(), migrate: true, operationTimeoutMs: 500, sweepIntervalMs: 3_600_000 });
      // The migration left its connection idle in the pool: the sweep takes it, and it never answers.
      proxy.blackHole();
      void store.sweep();
      expect(await settlesWithin(store.close(), 5_000)).toBe(true);
    } finally {
      await proxy.close();
      await pool.end();
    }
  });
});

describe('PostgreSQL store connection dying inside a transaction', () => {
  it("a login whose connection is ended while it waits for the user's lock answers unavailable, not an uncaught error", async () => {
    const store = await PostgresSessionStore.connect({
      connectionString: server.connectionString,
      tableName: uniqueTableName(),
      migrate: true,
      operationTimeoutMs: 5_000,
      sweepIntervalMs: 3_600_000,
    });
    const holder = await admin.connect();
    try {
      const userId = uniqueUserId();
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${store.tables.sessions} user ${userId}`]);
      const login = store.create(userRef(userId), makeRecord(userId), 60_000);
      login.catch(() => undefined);
      const deadline = Date.now() + 5_000;
      let waiting: number | undefined;
      while (waiting === undefined && Date.now() < deadline) {
        waiting = (await admin.query("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows[0]?.pid as number | undefined;
      }
      expect(waiting).toBeDefined();
      await admin.query('SELECT pg_terminate_backend($1)', [waiting]);
      await expect(login).rejects.toThrow(/Session store unavailable during create/);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
      await store.close();
    }
  });
});
