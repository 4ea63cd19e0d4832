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
  /** Requests sent, those still in flight when the series stopped included. */
  totalRequests: number;
  start: Date;
  finish: Date;
  non2xx: number;
  /** Connection errors, timeouts among them. */
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

const IDLE_POLL_MS = 20;
const IDLE_WAIT_LIMIT_MS = 1000;

/**
 * The process's CPU time once it has stopped using any: two polls in a row without a new clock
 * tick (10 ms of CPU). Bounded, so a busy app delays a series by at most a second.
 */
async function cpuOnceIdle(pid: number): Promise<number> {
  let previous = processCpuMicros(pid);
  let unchanged = 0;
  for (let waited = 0; unchanged < 2 && waited < IDLE_WAIT_LIMIT_MS; waited += IDLE_POLL_MS) {
    await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
    const now = processCpuMicros(pid);
    unchanged = now === previous ? unchanged + 1 : 0;
    previous = now;
  }
  return previous;
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
  // autocannon drops the requests in flight when it stops, but the app still serves them: their
  // work belongs to this series, not to the next one, so wait for the app to be idle.
  const cpuAfter = await cpuOnceIdle(options.pid);
  const commandsAfter = options.redis ? await commandCalls(options.redis) : noCommands;
  const latencies = histogramOf(raw.latencies);
  const requests = raw['2xx'];
  // CPU and commands are spent on every request sent, those dropped at the end included.
  const served = Math.max(raw.totalRequests, requests);
  const seconds = (raw.finish.getTime() - raw.start.getTime()) / 1000;
  return {
    requests,
    failures: raw.non2xx + raw.errors,
    failureDetail: (['1xx', '3xx', '4xx', '5xx', 'errors', 'timeouts'] as const)
      .filter((name) => raw[name] > 0)
      .map((name) => `${name} ${raw[name]}`)
      .join(', '),
    requestsPerSecond: requests / seconds,
    p50Ms: latencies.getValueAtPercentile(50),
    p99Ms: latencies.getValueAtPercentile(99),
    cpuMicrosPerRequest: served > 0 ? (cpuAfter - cpuBefore) / served : 0,
    latencies: raw.latencies,
    redisCommandsPerRequest: commandsPerRequest(commandsBefore, commandsAfter, served),
  };
}
