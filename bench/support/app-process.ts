import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AppMessage, AppSpec } from '../servers/app-spec.js';

const SERVE = fileURLToPath(new URL('../servers/serve.js', import.meta.url));
const BOOT_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 3000;
const OUTPUT_KEPT = 8000;

/** A bench app that did not boot because of its configuration (e.g. an option this branch lacks). */
export class AppBootError extends Error {
  constructor(
    message: string,
    readonly option: string | undefined,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

export interface AppProcess {
  readonly pid: number;
  readonly base: string;
  /** The last lines the app printed (its error log), for a failed series. */
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Forks one app (its own Node process) and waits until it listens. */
export async function startApp(spec: AppSpec): Promise<AppProcess> {
  const child = fork(SERVE, [], {
    env: { ...process.env, NODE_ENV: 'production', BENCH_APP: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEPT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spec.kind} app did not start within ${BOOT_TIMEOUT_MS} ms:\n${output}`)), BOOT_TIMEOUT_MS);
    child.on('message', (message: AppMessage) => {
      clearTimeout(timer);
      if (message.type === 'ready') resolve(message.port);
      else reject(new AppBootError(message.message, message.option));
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${spec.kind} app exited before listening:\n${output}`));
    });
  });
  return {
    pid: child.pid!,
    base: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
