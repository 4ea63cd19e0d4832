/**
 * A private, throw-away PostgreSQL for tests: `initdb` into a temporary directory, `pg_ctl` on a
 * free port, listening only on a Unix socket in that directory (no TCP). It never connects to a
 * PostgreSQL it did not start, unless DATABASE_URL is set: then it works in a schema of its own,
 * created for the run and dropped by dispose(). The directory is removed by dispose(), and by a
 * watchdog if the test process dies first.
 *
 * Binaries: PG_BIN, else the newest /usr/lib/postgresql/<version>/bin, else PATH. initdb refuses
 * to run as root, so as root the server is run as the `postgres` OS user (runuser), in a
 * directory that user owns.
 *
 * For bench or other tools: `const pg = await startPostgresServer(); pg.storeOptions()` gives
 * `{ type: 'postgres', connectionString, schema, migrate: true }`; `await pg.dispose()` at the end.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { getFreePort } from './free-port.js';
import { isExecutable } from './redis-server.js';

const run = promisify(execFile);

export interface PostgresServerHandle {
  /** The server's port (the socket's name); 0 with DATABASE_URL. */
  readonly port: number;
  /** Where the server's Unix socket is; null with DATABASE_URL. */
  readonly socketDir: string | null;
  /** A pg connection string for the server (over the socket). */
  readonly connectionString: string;
  /** The schema tests should use: `public` on a private server, a fresh one under DATABASE_URL. */
  readonly schema: string;
  /** True when the server is DATABASE_URL's, which tests must not stop. */
  readonly external: boolean;
  /** A SessionModule store option for this server (migrating at start-up). */
  storeOptions(extra?: Record<string, unknown>): { type: 'postgres'; connectionString: string; schema: string; migrate: true };
  /** Stops the server (fast shutdown), keeping its data: the database becomes unreachable. */
  stopServer(): Promise<void>;
  /** Starts it again on the same port and socket, with the same data. */
  startServer(): Promise<void>;
  /** Stops the server and removes its directory (or drops the schema under DATABASE_URL). Idempotent. */
  dispose(): Promise<void>;
}

const NOT_FOUND = 'initdb/pg_ctl not found: install PostgreSQL (apt-get install postgresql) or set PG_BIN to its bin directory';
const START_TIMEOUT_S = 30;

/** The directory holding initdb and pg_ctl. */
export function postgresBinDir(): string {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  try {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => join('/usr/lib/postgresql', version, 'bin')));
  } catch {
    // no Debian layout
  }
  candidates.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  const found = candidates.find((dir) => isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'pg_ctl')));
  if (!found) throw new Error(NOT_FOUND);
  return found;
}

/** As root, commands run as the postgres OS user; otherwise as ourselves. */
async function asServerUser(bin: string, args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  try {
    await run(file, argv, { timeout: (START_TIMEOUT_S + 10) * 1000 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${bin} ${args.join(' ')} failed: ${(error as Error).message}\n${stdout ?? ''}${stderr ?? ''}`, { cause: error });
  }
}

async function serverUserIds(): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

/**
 * Jest gives each test file its own `process`, so exit hooks may never fire: a tiny `sh`
 * watchdog holds a pipe from us, and when it hits EOF (we died) it shuts the server down
 * (SIGQUIT: immediate shutdown, then SIGKILL) and removes the directory.
 */
function startWatchdog(pid: number, dir: string): ChildProcess {
  const watchdog = spawn(
    '/bin/sh',
    ['-c', 'while read -r _; do :; done; kill -QUIT "$1" 2>/dev/null; sleep 1; kill -9 "$1" 2>/dev/null; rm -rf "$2"', 'pg-watchdog', String(pid), dir],
    { stdio: ['pipe', 'ignore', 'ignore'] },
  );
  watchdog.on('error', () => undefined);
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return watchdog;
}

export interface StartPostgresServerOptions {
  /** Start a private server even when DATABASE_URL is set (a suite that stops its server). */
  private?: boolean;
}

export async function startPostgresServer(options: StartPostgresServerOptions = {}): Promise<PostgresServerHandle> {
  if (process.env.DATABASE_URL && !options.private) return inOwnSchema(process.env.DATABASE_URL);
  const binDir = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'nsa-pg-'));
  const data = join(dir, 'data');
  let watchdog: ChildProcess | null = null;
  let disposed = false;
  try {
    const owner = await serverUserIds();
    if (owner) chownSync(dir, owner.uid, owner.gid);
    await asServerUser(join(binDir, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    const port = await getFreePort();
    const serverOptions = [
      `-p ${port}`,
      `-k ${dir}`,
      "-c listen_addresses=''",
      // A test database: durability off, small footprint.
      '-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB -c max_connections=60',
    ].join(' ');
    const pgCtl = join(binDir, 'pg_ctl');
    const startServer = async () => {
      await asServerUser(pgCtl, ['start', '-w', '-t', String(START_TIMEOUT_S), '-D', data, '-l', join(dir, 'server.log'), '-o', serverOptions]);
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      watchdog?.kill('SIGKILL');
      watchdog = startWatchdog(pid, dir);
    };
    const stopServer = async () => {
      await asServerUser(pgCtl, ['stop', '-w', '-m', 'fast', '-D', data]);
    };
    await startServer();
    const connectionString = `postgresql://postgres@localhost:${port}/postgres?host=${encodeURIComponent(dir)}`;
    return {
      port,
      socketDir: dir,
      connectionString,
      schema: 'public',
      external: false,
      storeOptions: (extra = {}) => ({ type: 'postgres', connectionString, schema: 'public', migrate: true, ...extra }),
      stopServer,
      startServer,
      async dispose() {
        if (disposed) return;
        disposed = true;
        await stopServer().catch(() => undefined);
        watchdog?.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    (watchdog as ChildProcess | null)?.kill('SIGKILL');
    await asServerUser(join(binDir, 'pg_ctl'), ['stop', '-m', 'immediate', '-D', data]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** DATABASE_URL given: a schema of our own in it, dropped by dispose(); the server is never stopped. */
async function inOwnSchema(connectionString: string): Promise<PostgresServerHandle> {
  const { default: pg } = await import('pg');
  const schema = `nsa_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await admin.end();
  }
  const refuse = async () => {
    throw new Error('DATABASE_URL is a server these tests did not start: they never stop it');
  };
  let disposed = false;
  return {
    port: 0,
    socketDir: null,
    connectionString,
    schema,
    external: true,
    storeOptions: (extra = {}) => ({ type: 'postgres', connectionString, schema, migrate: true, ...extra }),
    stopServer: refuse,
    startServer: refuse,
    async dispose() {
      if (disposed) return;
      disposed = true;
      const client = new pg.Client({ connectionString });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A table name no other store in the run uses, so stores sharing one server never see each other's rows. */
export function uniqueTableName(label = 'e2e'): string {
  return `${label}_${randomBytes(6).toString('hex')}`;
}
