import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mergedLatencyMs, runSeries, type SeriesResult } from './measure/series.js';
import { moduleTaxes, quantile, summarize, type VariantRun } from './summary.js';
import { evaluateTargets } from './targets.js';
import { VARIANTS, type Variant } from './variants.js';

// Real autocannon results, for the latency histograms the summary merges: a route that answers at
// once, and one that answers after SLOW_MS.
const SLOW_MS = 200;
let server: Server;
let fast: SeriesResult;
let slow: SeriesResult;

beforeAll(async () => {
  server = createServer((request, response) => void setTimeout(() => response.end('ok'), request.url === '/slow' ? SLOW_MS : 0));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const measure = (path: string) => runSeries({ url: `${base}${path}`, headers: {}, pid: process.pid, seconds: 0.3, connections: 2 });
  fast = await measure('/fast');
  slow = await measure('/slow');
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function series(requestsPerSecond: number, extra: Partial<SeriesResult> = {}): SeriesResult {
  return {
    latencies: fast.latencies,
    requests: requestsPerSecond,
    failures: 0,
    failureDetail: '',
    requestsPerSecond,
    p50Ms: 1,
    p99Ms: 10,
    cpuMicrosPerRequest: 100,
    redisCommandsPerRequest: {},
    ...extra,
  };
}

const variant = (id: string): Variant => {
  const found = VARIANTS.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no variant ${id}`);
  return found;
};

describe('bench summary', () => {
  it('interpolates quantiles between neighbours', () => {
    expect(quantile([4, 1, 3, 2, 5], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75);
    expect(quantile([1, 2, 3, 4], 0.75)).toBeCloseTo(3.25);
    expect(quantile([7], 0.75)).toBe(7);
  });

  it('takes each ratio from a guarded slice and the unguarded slice next to it, not from the medians', () => {
    // The machine's speed drifts from pair to pair: per pair the ratios are 0.95, 0.85 and 0.9,
    // while the ratio of the two medians would be 1700 / 2000 = 0.85.
    const run: VariantRun = {
      variant: variant('express-session-redis'),
      open: [series(1000), series(2000), series(3000)],
      guarded: [series(950), series(1700), series(2700)],
    };
    const summary = summarize(run);
    expect(summary.guarded?.ratio.median).toBeCloseTo(0.9);
    expect(summary.guarded?.ratio.lowerQuartile).toBeCloseTo(0.875);
    expect(summary.guarded?.ratio.upperQuartile).toBeCloseTo(0.925);
    expect(summary.openRps).toBe(2000);
  });

  it('adds CPU per pair', () => {
    const run: VariantRun = {
      variant: variant('express-session-memory'),
      open: [series(1000, { cpuMicrosPerRequest: 300 }), series(1000, { cpuMicrosPerRequest: 500 })],
      guarded: [series(900, { cpuMicrosPerRequest: 320 }), series(900, { cpuMicrosPerRequest: 540 })],
    };
    expect(summarize(run).guarded?.cpuAddedMicros).toBe(30);
  });

  it("takes p99 over all of a route's requests in the run, so one slow slice does not decide it", () => {
    expect(mergedLatencyMs([slow], 99)).toBeGreaterThanOrEqual(SLOW_MS);
    expect(fast.requests).toBeGreaterThan(100 * slow.requests);
    // Per slice, the guarded p99s are SLOW_MS and a few ms, and their median would be half of SLOW_MS.
    const run: VariantRun = { variant: variant('express-session-memory'), open: [fast, fast], guarded: [slow, fast] };
    const summary = summarize(run);
    expect(summary.guarded?.p99Ms).toBeLessThan(SLOW_MS / 2);
    expect(summary.guarded?.p99AddedMs).toBeLessThan(SLOW_MS / 2);
    // A full run merges thousands of histograms: none may be left holding memory (autocannon's
    // own aggregateResult builds WebAssembly ones it never frees, and a run died of it).
    for (let i = 0; i < 3000; i++) mergedLatencyMs([fast, slow], 99);
    // All slow: the whole tail is slow.
    expect(summarize({ ...run, guarded: [slow, slow] }).guarded?.p99AddedMs).toBeGreaterThan(SLOW_MS / 2);
  });

  it("judges the module's tax slice by slice against the floor", () => {
    const runs = new Map<string, VariantRun>([
      ['express-floor', { variant: variant('express-floor'), open: [series(1000), series(2000)], guarded: [] }],
      ['express-session-redis', { variant: variant('express-session-redis'), open: [series(990), series(1940)], guarded: [series(900), series(1800)] }],
    ]);
    const [tax] = moduleTaxes(runs);
    expect(tax.adapter).toBe('express');
    expect(tax.ratio.median).toBeCloseTo(0.98);
  });

  it("compares the loss with express-session's, whose unguarded slices are the floor's", () => {
    expect(variant('express-express-session-rolling').unguardedBaseline).toBe('floor');
    const ours = summarize({ variant: variant('express-session-redis'), open: [series(1000)], guarded: [series(950)] });
    const peer = summarize({ variant: variant('express-express-session-rolling'), open: [series(1000)], guarded: [series(700)] });
    const slower = summarize({ variant: variant('express-express-session-rolling'), open: [series(1000)], guarded: [series(880)] });
    const verdict = (peerSummary: typeof peer): string | undefined =>
      evaluateTargets({
        summaries: new Map([
          [ours.variant.id, ours],
          [peerSummary.variant.id, peerSummary],
        ]),
        moduleTax: new Map(),
        bytesPerSession: new Map(),
      }).find((target) => target.target.startsWith('express-session-redis loses'))?.status;
    // We lose 5%: within a third of the peer's 30%, not within a third of its 12%.
    expect(verdict(peer)).toBe('PASS');
    expect(verdict(slower)).toBe('MISS');
  });
});
