import type { SeriesResult } from './measure/series.js';
import { moduleTaxes, quantile, summarize, type VariantRun } from './summary.js';
import { evaluateTargets } from './targets.js';
import { VARIANTS, type Variant } from './variants.js';

function series(requestsPerSecond: number, extra: Partial<SeriesResult> = {}): SeriesResult {
  return {
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

  it('adds p99 and CPU per pair', () => {
    const run: VariantRun = {
      variant: variant('express-session-memory'),
      open: [series(1000, { p99Ms: 10, cpuMicrosPerRequest: 300 }), series(1000, { p99Ms: 40, cpuMicrosPerRequest: 500 })],
      guarded: [series(900, { p99Ms: 11, cpuMicrosPerRequest: 320 }), series(900, { p99Ms: 43, cpuMicrosPerRequest: 540 })],
    };
    expect(summarize(run).guarded).toMatchObject({ p99AddedMs: 2, cpuAddedMicros: 30 });
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
