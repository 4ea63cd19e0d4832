import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * Which CPUs the measured app gets and which the rest (autocannon in the bench process, Redis,
 * PostgreSQL) share. Without pinning, the scheduler moves the app and the load generator between
 * the same cores and a series measures their contention as much as the app: the ratios of one
 * row then range widely. With two cores or more and util-linux's `taskset`, the app has the last
 * core to itself (one app is under load at a time). `BENCH_PIN=0` leaves scheduling alone.
 */
export interface CpuPinning {
  /** taskset CPU lists, e.g. '1' and '0'. */
  readonly app: string;
  readonly rest: string;
  describe(): string;
}

export function planCpuPinning(): CpuPinning | null {
  const cpus = availableParallelism();
  if (process.env.BENCH_PIN === '0' || cpus < 2 || !hasTaskset()) return null;
  const app = String(cpus - 1);
  const rest = cpus === 2 ? '0' : `0-${cpus - 2}`;
  return { app, rest, describe: () => `each app pinned to CPU ${app}, the bench (autocannon) and Redis to CPU ${rest} (taskset)` };
}

/** Moves every thread of a running process onto `cpus`. */
export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', cpus, String(pid)], { stdio: 'ignore' });
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
