import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { getFreePort } from '../../test/support/free-port.js';

export interface PostgresServer {
  readonly url: string;
  readonly version: string;
  stop(): void;
}

const NOT_FOUND = 'PostgreSQL binaries (initdb, pg_ctl) not found: install postgresql or put its bin directory on PATH';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directory with initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/<version>/bin. */
function binDir(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'initdb')) && executable(join(dir, 'pg_ctl'))) return dir;
  }
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  } catch {
    // no packaged PostgreSQL
  }
  const found = versions.map((version) => join(root, version, 'bin')).find((dir) => executable(join(dir, 'initdb')));
  if (!found) throw new Error(NOT_FOUND);
  return found;
}

/**
 * A private PostgreSQL in a temporary directory on a free port (never the system one on 5432),
 * trust authentication on 127.0.0.1 only. PostgreSQL refuses to run as root: as root, the
 * server runs as the `postgres` system user. It is stopped on exit, even on Ctrl-C.
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = binDir();
  const port = await getFreePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-pg-'));
  const data = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  const run = (tool: string, args: string[]): string => {
    const command = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] as const : [join(bin, tool), args] as const;
    const result = spawnSync(command[0], command[1], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${tool} failed: ${result.stderr || result.stdout}`);
    return result.stdout;
  };
  run('initdb', ['-D', data, '-U', 'bench', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  run('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'server.log'), '-w', 'start']);
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  process.once('exit', stop);
  return {
    url: `postgres://bench@127.0.0.1:${port}/postgres`,
    version: run('pg_ctl', ['--version']).trim(),
    stop,
  };
}
