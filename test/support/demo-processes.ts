/**
 * The built demo as real child processes, for suites that need several app instances or a
 * process of its own (RSS): compiled once into a private directory, started with its env,
 * killed (and awaited) by `stopAll()`, and killed with the test process through a watchdog pipe.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort } from './free-port.js';
import { TEST_SECRET } from './test-app.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface DemoProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  /** The process's resident set size in bytes, read from /proc. */
  rssBytes(): number;
}

export interface DemoBuild {
  start(env: NodeJS.ProcessEnv): Promise<DemoProcess>;
  stopAll(): Promise<void>;
  /** Stops every process and removes the build. */
  remove(): Promise<void>;
}

/**
 * This checkout's demo compiled into a new private directory (its entry: `<dir>/dist/demo/main.js`):
 * never a stale or shared dist/. The caller removes the directory.
 */
export function compileDemo(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const compiled = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist')], { cwd: ROOT, env, encoding: 'utf8' });
  if (compiled.status !== 0) throw new Error(`the demo does not build:\n${compiled.stdout}${compiled.stderr}`);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** This checkout's demo compiled into a private directory, started as processes on demand. */
export function buildDemo(): DemoBuild {
  const dir = compileDemo('demo-instances-');
  const running = new Set<{ child: ChildProcess; exited: Promise<void> }>();

  const stopAll = async () => {
    const stopping = [...running];
    running.clear();
    for (const { child } of stopping) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(stopping.map(({ exited }) => exited));
  };
  return {
    async start(extraEnv) {
      const port = await getFreePort();
      const childEnv: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: String(port), SESSION_SECRET: TEST_SECRET, ...extraEnv };
      delete childEnv.NODE_OPTIONS;
      const child = spawn(process.execPath, [join(dir, 'dist', 'demo', 'main.js')], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      // The watchdog's stdin closes when this process dies, however it dies; it then kills the demo.
      const watchdog = spawn('/bin/sh', ['-c', 'while read -r _; do :; done; kill -9 "$1" 2>/dev/null', 'demo-watchdog', String(child.pid)], {
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      watchdog.unref();
      (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
      let output = '';
      child.stdout!.on('data', (chunk) => (output += chunk));
      child.stderr!.on('data', (chunk) => (output += chunk));
      const exited = new Promise<void>((resolve) =>
        child.once('exit', () => {
          watchdog.kill('SIGKILL');
          resolve();
        }),
      );
      running.add({ child, exited });
      const deadline = Date.now() + 60_000;
      while (!/Listening on/.test(output)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the demo did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return {
        child,
        url: `http://127.0.0.1:${port}`,
        output: () => output,
        rssBytes: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
      };
    },
    stopAll,
    async remove() {
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
