import autocannon from 'autocannon';
import type { Redis } from 'ioredis';
import { processCpuMicros } from './process-cpu.js';
import { commandCalls, commandsPerRequest } from './redis-stats.js';

export interface SeriesOptions {
  url: string;
  headers: Record<string, string>;
  /** The server process whose CPU is charged to the series. */
  pid: number;
  redis: Redis;
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
}

const SAMPLE_MS = 100;

/** One autocannon series against one route, with the server's CPU and Redis's commands counted around it. */
export async function runSeries(options: SeriesOptions): Promise<SeriesResult> {
  const commandsBefore = await commandCalls(options.redis);
  const cpuBefore = processCpuMicros(options.pid);
  const result = await autocannon({
    url: options.url,
    headers: options.headers,
    connections: options.connections,
    duration: options.seconds,
    // autocannon stops at its next sample tick: ticks every 100 ms keep a 0.5 s series 0.5 s long.
    sampleInt: SAMPLE_MS,
  });
  const cpuAfter = processCpuMicros(options.pid);
  const commandsAfter = await commandCalls(options.redis);
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
    redisCommandsPerRequest: commandsPerRequest(commandsBefore, commandsAfter, requests),
  };
}
