import hdr from 'hdr-histogram-js';
import { mergedLatencyMs, type SeriesResult } from './measure/series.js';
import { moduleTaxes, quantile, summarize, type VariantRun } from './summary.js';
import { evaluateTargets } from './targets.js';
import { VARIANTS, type Variant } from './variants.js';

/** A latency histogram as autocannon encodes it (its settings), of `count` requests that each took `ms`. */
function latencies(count: number, ms: number): string {
  const histogram = hdr.build({ bitBucketSize: 64, useWebAssembly: false, autoResize: true, lowestDiscernibleValue: 1, highestTrackableValue: 10000, numberOfSignificantValueDigits: 5 });
  histogram.recordValueWithCount(ms, count);
  return hdr.encodeIntoCompressedBase64(histogram);
}

const SLOW_MS = 200;
const FAST_LATENCIES = latencies(10_000, 2);

function series(requestsPerSecond: number, extra: Partial<SeriesResult> = {}): SeriesResult {
  return {
    latencies: FAST_LATENCIES,
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
    // Per pair 20, 40 and 100 µs; the difference of the two medians would be 500 − 400 = 100.
    const run: VariantRun = {
      variant: variant('express-session-memory'),
      open: [series(1000, { cpuMicrosPerRequest: 300 }), series(1000, { cpuMicrosPerRequest: 500 }), series(1000, { cpuMicrosPerRequest: 400 })],
      guarded: [series(900, { cpuMicrosPerRequest: 320 }), series(900, { cpuMicrosPerRequest: 540 }), series(900, { cpuMicrosPerRequest: 500 })],
    };
    expect(summarize(run).guarded?.cpuAddedMicros).toBe(40);
  });

  it("takes p99 over all of a route's requests in the run, so one slow slice does not decide it", () => {
    const fast = series(1000);
    const slow = series(1000, { latencies: latencies(20, SLOW_MS) });
    expect(mergedLatencyMs([slow], 99)).toBe(SLOW_MS);
    // Per slice, the guarded p99s are SLOW_MS and 2 ms, and their median would be over half of SLOW_MS.
    const run: VariantRun = { variant: variant('express-session-memory'), open: [fast, fast], guarded: [slow, fast] };
    const summary = summarize(run);
    expect(summary.guarded?.p99Ms).toBe(2);
    expect(summary.guarded?.p99AddedMs).toBe(0);
    // All slow: the whole tail is slow.
    expect(summarize({ ...run, guarded: [slow, slow] }).guarded?.p99AddedMs).toBe(SLOW_MS - 2);
  });

  it('merges thousands of histograms without holding on to memory', () => {
    // autocannon's own aggregateResult builds WebAssembly histograms it never frees: a full run
    // died of it after about 1,800 merges.
    const slow = series(1000, { latencies: latencies(20, SLOW_MS) });
    for (let i = 0; i < 2000; i++) mergedLatencyMs([series(1000), slow], 99);
    expect(mergedLatencyMs([series(1000), slow], 99)).toBe(2);
  });

  it("judges the module's tax pair by pair against the floor", () => {
    // Per pair 0.99, 0.95 and 1.0; the ratio of the medians would be 1900 / 2000 = 0.95.
    const [tax] = moduleTaxes([{ adapter: 'express', floor: [series(1000), series(2000), series(3000)], withModule: [series(990), series(1900), series(3000)] }]);
    expect(tax.adapter).toBe('express');
    expect(tax.ratio.median).toBeCloseTo(0.99, 3);
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
