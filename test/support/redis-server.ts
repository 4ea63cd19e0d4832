/**
 * Starts a private, throw-away redis-server child process for tests.
 * It never connects to any Redis other than the one it started.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Socket } from 'node:net';
import { getFreePort } from './free-port.js';

export interface RedisServerHandle {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period) and waits for exit. */
  stop(): Promise<void>;
  /** Starts the server again on the same port and waits until it answers PING. */
  restart(): Promise<void>;
}

export interface StartRedisServerOptions {
  /** Extra redis-server command line arguments, e.g. ['--maxmemory', '10mb']. */
  args?: string[];
  /** A config file, given first on the command line as redis-server wants it (e.g. a sentinel's). */
  configFile?: string;
}

const NOT_FOUND =
  'redis-server not found: install it (apt-get install redis-server) or set REDIS_SERVER_BIN';
const READY_TIMEOUT_MS = 5000;
const STOP_GRACE_MS = 3000;
const PORT_ATTEMPTS = 5;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** Whether the file exists and this process may run it (binaries found on PATH or given by env). */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function resolveBinary(): string {
  const fromEnv = process.env.REDIS_SERVER_BIN;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new Error(NOT_FOUND);
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'redis-server');
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error(NOT_FOUND);
}

/** Sends a raw RESP PING to 127.0.0.1:port; resolves true on +PONG. */
function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let buffer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      if (buffer.includes('\r\n')) done(buffer.startsWith('+PONG'));
    });
    socket.connect(port, '127.0.0.1', () => socket.write('*1\r\n$4\r\nPING\r\n'));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class PortInUseError extends Error {}

function unrefStream(stream: unknown): void {
  (stream as { unref?: () => void } | null)?.unref?.();
}

/**
 * Jest gives each test file its own `process` object, so `process.on('exit')`
 * hooks registered from tests never fire. To make sure a forgotten or orphaned
 * redis-server dies with the test process, a tiny `sh` watchdog holds a pipe
 * from us on stdin: when this process dies the pipe hits EOF and the watchdog
 * SIGKILLs the server. It is killed itself when the server exits normally.
 */
function startWatchdog(pid: number | undefined): ChildProcess | undefined {
  if (pid === undefined) return undefined;
  try {
    const watchdog = spawn(
      '/bin/sh',
      ['-c', 'while read -r _; do :; done; kill -9 "$1" 2>/dev/null', 'redis-watchdog', String(pid)],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    );
    watchdog.on('error', () => undefined);
    watchdog.unref();
    unrefStream(watchdog.stdin);
    return watchdog;
  } catch {
    return undefined;
  }
}

interface Spawned {
  child: ChildProcess;
  exited: Promise<void>;
}

async function spawnAndWait(bin: string, port: number, extraArgs: string[], configFile?: string): Promise<Spawned> {
  const args = [
    ...(configFile === undefined ? [] : [configFile]),
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--protected-mode', 'no',
    ...extraArgs,
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  installExitHook();
  // A forgotten server must not keep the test process alive.
  child.unref();
  unrefStream(child.stdout);
  unrefStream(child.stderr);
  const watchdog = startWatchdog(child.pid);

  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    if (output.length > 20000) output = output.slice(-20000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let hasExited = false;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      hasExited = true;
      running.delete(child);
      resolve();
    });
    child.once('exit', () => {
      watchdog?.kill('SIGKILL');
      hasExited = true;
      running.delete(child);
      resolve();
    });
  });

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (hasExited) {
      if (spawnError) throw new Error(`failed to start ${bin}: ${spawnError.message}`);
      if (/address already in use/i.test(output)) {
        throw new PortInUseError(`port ${port} already in use`);
      }
      throw new Error(`redis-server exited before becoming ready on port ${port}:\n${output.trim()}`);
    }
    if (await ping(port)) return { child, exited };
    await sleep(50);
  }
  child.kill('SIGKILL');
  await exited;
  throw new Error(
    `redis-server did not answer PING on port ${port} within ${READY_TIMEOUT_MS}ms:\n${output.trim()}`,
  );
}

async function stopChild(spawned: Spawned | undefined): Promise<void> {
  if (!spawned) return;
  const { child, exited } = spawned;
  if (child.exitCode !== null || child.signalCode !== null) {
    await exited;
    return;
  }
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

export async function startRedisServer(opts: StartRedisServerOptions = {}): Promise<RedisServerHandle> {
  const bin = resolveBinary();
  const extraArgs = opts.args ?? [];

  let current: Spawned | undefined;
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await getFreePort();
    try {
      current = await spawnAndWait(bin, port, extraArgs, opts.configFile);
      break;
    } catch (err) {
      if (err instanceof PortInUseError && attempt < PORT_ATTEMPTS) continue;
      throw err;
    }
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const toStop = current;
      current = undefined;
      await stopChild(toStop);
    },
    async restart() {
      const toStop = current;
      current = undefined;
      await stopChild(toStop);
      // The port may linger briefly after exit; retry binding the same port.
      const deadline = Date.now() + READY_TIMEOUT_MS;
      for (;;) {
        try {
          current = await spawnAndWait(bin, port, extraArgs, opts.configFile);
          return;
        } catch (err) {
          if (err instanceof PortInUseError && Date.now() < deadline) {
            await sleep(100);
            continue;
          }
          throw err;
        }
      }
    },
  };
}

/** True when a redis-server binary can be found (for optional skipping). */
export function hasRedisServer(): boolean {
  try {
    const bin = resolveBinary();
    return spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
}
