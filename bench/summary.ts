import { mergedLatencyMs, type SeriesResult } from './measure/series.js';
import type { Variant } from './variants.js';

/** The series one variant produced, one per slice and route: `open[i]` and `guarded[i]` are a pair. */
export interface VariantRun {
  variant: Variant;
  open: SeriesResult[];
  guarded: SeriesResult[];
}

export interface Spread {
  median: number;
  lowerQuartile: number;
  upperQuartile: number;
}

export interface VariantSummary {
  variant: Variant;
  openRps: number;
  /** Over every request of the route in the run (merged histograms), as is the guarded p99. */
  openP99Ms: number;
  openCpuMicros: number;
  /** Absent for the floor, which has no guarded route. */
  guarded?: {
    rps: number;
    /** Guarded ÷ unguarded req/s in adjacent slices (the unguarded one of the same process, or of the floor's: Variant.unguardedBaseline). */
    ratio: Spread;
    /** Median over the slices. */
    p50Ms: number;
    p99Ms: number;
    /** Guarded p99 − unguarded p99, each over all of the route's requests in the run. */
    p99AddedMs: number;
    cpuMicros: number;
    cpuAddedMicros: number;
    redisCommandsPerRequest: number;
    /** Mean per request over the slices, by command. */
    redisCommands: Record<string, number>;
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The value below which `share` of the values lie, interpolated between neighbours. */
export function quantile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * share;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

export function spread(values: number[]): Spread {
  return {
    median: median(values),
    lowerQuartile: quantile(values, 0.25),
    upperQuartile: quantile(values, 0.75),
  };
}

const totalCommands = (series: SeriesResult): number => Object.values(series.redisCommandsPerRequest).reduce((sum, n) => sum + n, 0);

function meanCommands(series: SeriesResult[]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const one of series) {
    for (const [command, perRequest] of Object.entries(one.redisCommandsPerRequest)) sums[command] = (sums[command] ?? 0) + perRequest;
  }
  return Object.fromEntries(Object.entries(sums).map(([command, sum]) => [command, sum / series.length]));
}

/** Pair by pair (a guarded slice and the unguarded slice next to it), then the median over the pairs. */
export function summarize(run: VariantRun): VariantSummary {
  const { open, guarded } = run;
  const byPair = (pick: (guardedSeries: SeriesResult, openSeries: SeriesResult) => number): number[] =>
    guarded.map((series, pair) => pick(series, open[pair]));
  const openP99Ms = mergedLatencyMs(open, 99);
  const guardedP99Ms = guarded.length > 0 ? mergedLatencyMs(guarded, 99) : 0;
  return {
    variant: run.variant,
    openRps: median(open.map((series) => series.requestsPerSecond)),
    openP99Ms,
    openCpuMicros: median(open.map((series) => series.cpuMicrosPerRequest)),
    ...(guarded.length > 0 && {
      guarded: {
        rps: median(guarded.map((series) => series.requestsPerSecond)),
        ratio: spread(byPair((g, o) => g.requestsPerSecond / o.requestsPerSecond)),
        p50Ms: median(guarded.map((series) => series.p50Ms)),
        p99Ms: guardedP99Ms,
        p99AddedMs: guardedP99Ms - openP99Ms,
        cpuMicros: median(guarded.map((series) => series.cpuMicrosPerRequest)),
        cpuAddedMicros: median(byPair((g, o) => g.cpuMicrosPerRequest - o.cpuMicrosPerRequest)),
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
  /** Unguarded req/s with SessionModule ÷ without, pair by pair. */
  ratio: Spread;
}

/**
 * The unguarded route of an adapter's floor and of its session-mode Redis app (the same app with
 * SessionModule), measured in alternating slices: `floor[i]` and `withModule[i]` are a pair.
 */
export interface TaxRun {
  adapter: string;
  floor: SeriesResult[];
  withModule: SeriesResult[];
}

/** The module's tax on a route without a guard, per adapter, pair by pair. */
export function moduleTaxes(runs: TaxRun[]): ModuleTax[] {
  return runs
    .filter((run) => run.floor.length > 0)
    .map(({ adapter, floor, withModule }) => ({
      adapter,
      floorRps: median(floor.map((series) => series.requestsPerSecond)),
      withModuleRps: median(withModule.map((series) => series.requestsPerSecond)),
      ratio: spread(floor.map((series, pair) => withModule[pair].requestsPerSecond / series.requestsPerSecond)),
    }));
}
