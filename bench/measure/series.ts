import autocannon from 'autocannon';
import hdr, { type Histogram } from 'hdr-histogram-js';
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
  /** The series' latency histogram (ms), as autocannon encodes it, for merging with others. */
  latencies: string;
}

/** The part of autocannon's raw result (`skipAggregateResult`) read here. */
interface RawRun {
  latencies: string;
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  '1xx': number;
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
}

const SAMPLE_MS = 100;

// Plain JavaScript histograms: the garbage collector frees them, where WebAssembly ones (what
// autocannon's own aggregateResult builds, and never destroys) fill the module's memory after a
// thousand series.
const histogramOf = (encoded: string): Histogram => hdr.decodeFromCompressedBase64(encoded, 64, false);

/**
 * The latency at `percentile` over every request of the given series together, from their merged
 * histograms: a tail measured over a whole run, where one stall in a short series would decide
 * that series' own p99.
 */
export function mergedLatencyMs(series: SeriesResult[], percentile: number): number {
  const merged = histogramOf(series[0].latencies);
  for (const one of series.slice(1)) merged.add(histogramOf(one.latencies));
  return merged.getValueAtPercentile(percentile);
}

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
  })) as unknown as RawRun;
  const cpuAfter = processCpuMicros(options.pid);
  const commandsAfter = options.redis ? await commandCalls(options.redis) : noCommands;
  const latencies = histogramOf(raw.latencies);
  const requests = raw['2xx'];
  return {
    requests,
    failures: raw.non2xx + raw.errors + raw.timeouts,
    failureDetail: (['1xx', '3xx', '4xx', '5xx', 'errors', 'timeouts'] as const)
      .filter((name) => raw[name] > 0)
      .map((name) => `${name} ${raw[name]}`)
      .join(', '),
    requestsPerSecond: requests / raw.duration,
    p50Ms: latencies.getValueAtPercentile(50),
    p99Ms: latencies.getValueAtPercentile(99),
    cpuMicrosPerRequest: requests > 0 ? (cpuAfter - cpuBefore) / requests : 0,
    latencies: raw.latencies,
    redisCommandsPerRequest: commandsPerRequest(commandsBefore, commandsAfter, requests),
  };
}
