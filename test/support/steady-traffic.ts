/**
 * Steady traffic for the failover suites: one loop per probe, each sending its request again as
 * soon as the last one is answered, every answer kept with its start time and duration. A
 * request is abandoned (and recorded with status 0) after HANG_MS, far past any bound.
 */
import { performance } from 'node:perf_hooks';

export interface Probe {
  label: string;
  url: string;
  headers?: Record<string, string>;
  method?: string;
  body?: () => unknown;
}

export interface Observation {
  label: string;
  startedAt: number;
  elapsedMs: number;
  status: number;
  retryAfter: string | null;
}

const HANG_MS = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function startTraffic(probes: Probe[], pauseMs = 20) {
  const observations: Observation[] = [];
  let stopping = false;
  const loop = async (probe: Probe) => {
    while (!stopping) {
      const startedAt = performance.now();
      let status: number;
      let retryAfter: string | null = null;
      try {
        const response = await fetch(probe.url, {
          method: probe.method ?? 'GET',
          headers: { 'content-type': 'application/json', ...probe.headers },
          body: probe.body ? JSON.stringify(probe.body()) : undefined,
          signal: AbortSignal.timeout(HANG_MS),
        });
        status = response.status;
        retryAfter = response.headers.get('retry-after');
        await response.arrayBuffer();
      } catch {
        status = 0;
      }
      observations.push({ label: probe.label, startedAt, elapsedMs: performance.now() - startedAt, status, retryAfter });
      await sleep(pauseMs);
    }
  };
  const loops = probes.map(loop);
  return {
    observations,
    /** Resolves once `label` has answered 200 to a request started after `since`, or rejects after `timeoutMs`. */
    async firstOkAfter(label: string, since: number, timeoutMs = 30_000): Promise<Observation> {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const ok = observations.find((seen) => seen.label === label && seen.startedAt > since && seen.status === 200);
        if (ok) return ok;
        if (performance.now() > deadline) throw new Error(`${label} answered no 200 within ${timeoutMs} ms of the fault`);
        await sleep(50);
      }
    },
    async stop(): Promise<void> {
      stopping = true;
      await Promise.all(loops);
    },
  };
}
