import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { processCpuMicros, TICKS_PER_SECOND } from './process-cpu.js';

/** CPU time all processes of the machine have used so far, in microseconds (/proc/stat, every core). */
function machineBusyMicros(): number {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  return ((user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND) * 1e6;
}

function ownMicros(pids: number[]): number {
  const { user, system } = process.cpuUsage();
  return user + system + pids.reduce((sum, pid) => sum + processCpuMicros(pid), 0);
}

/**
 * How much of the machine's CPU processes other than the bench's used from this call to the
 * returned function's call, as a share of all cores: other work on the machine makes every
 * number of the run noise.
 */
export function watchForeignCpu(pids: number[]): () => number {
  const startedAt = performance.now();
  const machineBefore = machineBusyMicros();
  const ownBefore = ownMicros(pids);
  return () => {
    const elapsedMicros = (performance.now() - startedAt) * 1000;
    const foreign = machineBusyMicros() - machineBefore - (ownMicros(pids) - ownBefore);
    return Math.max(0, foreign) / (elapsedMicros * cpus().length);
  };
}
