import type { SeriesResult } from './measure/series.js';
import type { Variant } from './variants.js';

/** The series one variant produced, one per round and route. */
export interface VariantRun {
  variant: Variant;
  open: SeriesResult[];
  guarded: SeriesResult[];
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface VariantSummary {
  variant: Variant;
  openRps: number;
  openP99Ms: number;
  openCpuMicros: number;
  /** Absent for the floor, which has no guarded route. */
  guarded?: {
    rps: number;
    /** Guarded ÷ unguarded req/s of the same process in the same round. */
    ratio: Spread;
    p50Ms: number;
    p99Ms: number;
    p99AddedMs: number;
    cpuMicros: number;
    cpuAddedMicros: number;
    redisCommandsPerRequest: number;
    /** Mean per request over the rounds, by command. */
    redisCommands: Record<string, number>;
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function spread(values: number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

const totalCommands = (series: SeriesResult): number => Object.values(series.redisCommandsPerRequest).reduce((sum, n) => sum + n, 0);

function meanCommands(series: SeriesResult[]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const one of series) {
    for (const [command, perRequest] of Object.entries(one.redisCommandsPerRequest)) sums[command] = (sums[command] ?? 0) + perRequest;
  }
  return Object.fromEntries(Object.entries(sums).map(([command, sum]) => [command, sum / series.length]));
}

/** Round by round, guarded against unguarded, then the median over the rounds. */
export function summarize(run: VariantRun): VariantSummary {
  const { open, guarded } = run;
  const byRound = (pick: (guardedSeries: SeriesResult, openSeries: SeriesResult) => number): number[] =>
    guarded.map((series, round) => pick(series, open[round]));
  return {
    variant: run.variant,
    openRps: median(open.map((series) => series.requestsPerSecond)),
    openP99Ms: median(open.map((series) => series.p99Ms)),
    openCpuMicros: median(open.map((series) => series.cpuMicrosPerRequest)),
    ...(guarded.length > 0 && {
      guarded: {
        rps: median(guarded.map((series) => series.requestsPerSecond)),
        ratio: spread(byRound((g, o) => g.requestsPerSecond / o.requestsPerSecond)),
        p50Ms: median(guarded.map((series) => series.p50Ms)),
        p99Ms: median(guarded.map((series) => series.p99Ms)),
        p99AddedMs: median(byRound((g, o) => g.p99Ms - o.p99Ms)),
        cpuMicros: median(guarded.map((series) => series.cpuMicrosPerRequest)),
        cpuAddedMicros: median(byRound((g, o) => g.cpuMicrosPerRequest - o.cpuMicrosPerRequest)),
        redisCommandsPerRequest: median(guarded.map(totalCommands)),
        redisCommands: meanCommands(guarded),
      },
    }),
  };
}

export interface ModuleTax {
  adapter: string;
  floorRps: number;
  withModuleRps: number;
  /** Unguarded req/s with SessionModule ÷ without, round by round. */
  ratio: Spread;
}

/**
 * The module's tax on a route without a guard, per adapter: the unguarded route of the
 * session-mode Redis app against the floor's (the same app without SessionModule).
 */
export function moduleTaxes(runs: Map<string, VariantRun>): ModuleTax[] {
  return ['express', 'fastify'].flatMap((adapter) => {
    const floor = runs.get(`${adapter}-floor`);
    const withModule = runs.get(`${adapter}-session-redis`);
    if (!floor || !withModule) return [];
    const ratio = spread(floor.open.map((series, round) => withModule.open[round].requestsPerSecond / series.requestsPerSecond));
    return [{ adapter, floorRps: summarize(floor).openRps, withModuleRps: summarize(withModule).openRps, ratio }];
  });
}
