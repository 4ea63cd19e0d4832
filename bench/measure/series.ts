import autocannon from 'autocannon';
import type { Redis } from 'ioredis';
import { processCpuMicros } from './process-cpu.js';
import { commandCalls, commandsPerRequest } from './redis-stats.js';

export interface SeriesOptions {
  url: string;
  headers: Record<string, string>;
  /** The server process whose CPU is charged to the series. */
  pid: number;
  /** Whose `INFO commandstats` are counted around the series; none, no counts. */
  redis?: Redis;
  seconds: number;
  connections: number;
}

export interface SeriesResult {
  /** 2xx answers. */
  requests: number;
  /** Non-2xx answers, connection errors and timeouts: any of them makes the run invalid. */
  failures: number;
  /** What the failures were, e.g. `4xx 950, errors 2`. */
  failureDetail: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuMicrosPerRequest: number;
  redisCommandsPerRequest: Record<string, number>;
  /** autocannon's raw result, whose latency histogram several series can be merged from. */
  raw: RawSeries;
}

/** What autocannon gives with `skipAggregateResult`: opaque here, only ever handed back to it. */
export type RawSeries = { readonly latencies: unknown };

// autocannon's public merge of raw results; not declared by @types/autocannon.
const { aggregateResult } = autocannon as unknown as { aggregateResult(results: RawSeries[], options: { url: string }): autocannon.Result };
// aggregateResult checks its options as a run's; the URL plays no part in the merge.
const MERGE_OPTIONS = { url: 'http://127.0.0.1/' };

/**
 * The latency percentile over every request of the given series together, from their merged
 * histograms: a tail measured over a whole run, where one stall in a short series would decide
 * that series' own p99.
 */
export function mergedP99Ms(series: SeriesResult[]): number {
  return aggregateResult(series.map((one) => one.raw), MERGE_OPTIONS).latency.p99;
}

const SAMPLE_MS = 100;

/** One autocannon series against one route, with the server's CPU and Redis's commands counted around it. */
export async function runSeries(options: SeriesOptions): Promise<SeriesResult> {
  const noCommands = new Map<string, number>();
  const commandsBefore = options.redis ? await commandCalls(options.redis) : noCommands;
  const cpuBefore = processCpuMicros(options.pid);
  const raw = (await autocannon({
    url: options.url,
    headers: options.headers,
    connections: options.connections,
    duration: options.seconds,
    // autocannon stops at its next sample tick: ticks every 100 ms keep a 0.5 s series 0.5 s long.
    sampleInt: SAMPLE_MS,
    skipAggregateResult: true,
  })) as unknown as RawSeries;
  const cpuAfter = processCpuMicros(options.pid);
  const commandsAfter = options.redis ? await commandCalls(options.redis) : noCommands;
  const result = aggregateResult([raw], MERGE_OPTIONS);
  const requests = result['2xx'];
  return {
    requests,
    failures: result.non2xx + result.errors + result.timeouts,
    failureDetail: (['1xx', '3xx', '4xx', '5xx', 'errors', 'timeouts'] as const)
      .filter((name) => result[name] > 0)
      .map((name) => `${name} ${result[name]}`)
      .join(', '),
    requestsPerSecond: requests / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    cpuMicrosPerRequest: requests > 0 ? (cpuAfter - cpuBefore) / requests : 0,
    raw,
    redisCommandsPerRequest: commandsPerRequest(commandsBefore, commandsAfter, requests),
  };
}
