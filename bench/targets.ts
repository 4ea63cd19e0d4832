import type { Spread, VariantSummary } from './summary.js';

/** What a run measured, by variant id, for the targets to read. */
export interface Measured {
  summaries: Map<string, VariantSummary>;
  /** Unguarded req/s with SessionModule ÷ without, by adapter. */
  moduleTax: Map<string, Spread>;
  /** Redis bytes one session with two small data keys adds, by variant id. */
  bytesPerSession: Map<string, number>;
}

/** The targets of issue 9, each read from one run. */
type Target =
  | { kind: 'ratio'; variant: string; atLeast: number }
  | { kind: 'p99-added'; variant: string; atMostMs: number }
  /** Throughput lost (1 − ratio) at most `share` of what the peer loses. */
  | { kind: 'loss-vs-peer'; variant: string; peer: string; share: number; shareText: string }
  | { kind: 'module-tax'; adapter: string; atMost: number }
  | { kind: 'bytes'; variant: string; atMost: number };

const ratio = (variant: string, atLeast: number): Target => ({ kind: 'ratio', variant, atLeast });
const p99 = (variant: string): Target => ({ kind: 'p99-added', variant, atMostMs: 2 });

export const TARGETS: Target[] = [
  ratio('express-session-redis', 0.9),
  ratio('express-session-memory', 0.95),
  ratio('express-jwt-stateless', 0.9),
  ratio('express-jwt-per-request', 0.85),
  ratio('express-session-near-cache', 0.97),
  p99('express-session-redis'),
  p99('express-session-memory'),
  p99('express-jwt-stateless'),
  p99('express-jwt-per-request'),
  ratio('fastify-session-redis', 0.85),
  ratio('fastify-jwt-stateless', 0.85),
  { kind: 'loss-vs-peer', variant: 'express-session-redis', peer: 'express-express-session-rolling', share: 1 / 3, shareText: 'a third' },
  { kind: 'loss-vs-peer', variant: 'express-jwt-stateless', peer: 'express-passport-jwt', share: 1 / 4, shareText: 'a quarter' },
  { kind: 'module-tax', adapter: 'express', atMost: 0.03 },
  { kind: 'bytes', variant: 'express-session-redis', atMost: 350 },
];

export interface TargetResult {
  target: string;
  measured: string;
  /** n/a: a variant it needs was not available in this build. */
  status: 'PASS' | 'MISS' | 'n/a';
}

const fixed = (value: number, digits = 2): string => value.toFixed(digits);
const verdict = (ok: boolean): 'PASS' | 'MISS' => (ok ? 'PASS' : 'MISS');

function evaluate(target: Target, measured: Measured): TargetResult {
  const guarded = (id: string) => measured.summaries.get(id)?.guarded;
  switch (target.kind) {
    case 'ratio': {
      const result = guarded(target.variant);
      const name = `${target.variant} ratio ≥ ${target.atLeast}`;
      if (!result) return { target: name, measured: 'not available', status: 'n/a' };
      return { target: name, measured: fixed(result.ratio.median), status: verdict(result.ratio.median >= target.atLeast) };
    }
    case 'p99-added': {
      const result = guarded(target.variant);
      const name = `${target.variant} p99 added ≤ ${target.atMostMs} ms`;
      if (!result) return { target: name, measured: 'not available', status: 'n/a' };
      return { target: name, measured: `${fixed(result.p99AddedMs, 1)} ms`, status: verdict(result.p99AddedMs <= target.atMostMs) };
    }
    case 'loss-vs-peer': {
      const ours = guarded(target.variant);
      const peer = guarded(target.peer);
      const name = `${target.variant} loses ≤ ${target.shareText} of what ${target.peer} loses`;
      if (!ours || !peer) return { target: name, measured: 'not available', status: 'n/a' };
      const lost = 1 - ours.ratio.median;
      const peerLost = 1 - peer.ratio.median;
      return {
        target: name,
        measured: `${fixed(lost * 100, 1)}% vs ${fixed(peerLost * 100, 1)}% (limit ${fixed(peerLost * target.share * 100, 1)}%)`,
        status: verdict(lost <= peerLost * target.share),
      };
    }
    case 'module-tax': {
      const tax = measured.moduleTax.get(target.adapter);
      const name = `${target.adapter} module tax on an unguarded route ≤ ${fixed(target.atMost * 100, 0)}%`;
      if (!tax) return { target: name, measured: 'not available', status: 'n/a' };
      return { target: name, measured: `${fixed((1 - tax.median) * 100, 1)}%`, status: verdict(1 - tax.median <= target.atMost) };
    }
    case 'bytes': {
      const bytes = measured.bytesPerSession.get(target.variant);
      const name = `${target.variant} Redis bytes per session ≤ ${target.atMost}`;
      if (bytes === undefined) return { target: name, measured: 'not available', status: 'n/a' };
      return { target: name, measured: `${bytes} B`, status: verdict(bytes <= target.atMost) };
    }
  }
}

export function evaluateTargets(measured: Measured): TargetResult[] {
  return TARGETS.map((target) => evaluate(target, measured));
}
