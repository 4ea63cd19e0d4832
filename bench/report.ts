import type { SessionFootprint } from './measure/bytes-per-session.js';
import type { Machine } from './support/machine.js';
import type { ModuleTax, Spread, VariantSummary } from './summary.js';
import type { TargetResult } from './targets.js';
import type { Variant } from './variants.js';

export interface RunSettings {
  quick: boolean;
  rounds: number;
  seconds: number;
  /** Each round's seconds per route are split into pairs of slices this long. */
  sliceSeconds: number;
  connections: number;
  startedAt: Date;
  durationSeconds: number;
  /** Share of all cores that processes other than the bench's used during the rounds. */
  foreignCpuShare: number;
  /** How the processes were placed on CPUs (see cpu-pinning.ts), or null when they were not. */
  pinning: string | null;
}

export interface Report {
  settings: RunSettings;
  machine: Machine;
  summaries: VariantSummary[];
  unavailable: Array<{ variant: Variant; reason: string }>;
  moduleTax: ModuleTax[];
  bytes: Array<{ variant: Variant; footprint: SessionFootprint }>;
  targets: TargetResult[];
}

export const int = (value: number): string => Math.round(value).toLocaleString('en-US');
const two = (value: number): string => value.toFixed(2);
const one = (value: number): string => value.toFixed(1);
const signed = (value: number): string => `${value < 0 ? '−' : '+'}${int(Math.abs(value))}`;
const percent = (share: number): string => `${one(share * 100)}%`;
export const spreadText = (value: Spread): string => `${two(value.median)} [${two(value.lowerQuartile)}–${two(value.upperQuartile)}]`;

/** A Markdown table. */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function commandsText(summary: NonNullable<VariantSummary['guarded']>): string {
  const shown = Object.entries(summary.redisCommands)
    .filter(([, perRequest]) => perRequest >= 0.005)
    .sort(([, a], [, b]) => b - a)
    .map(([command, perRequest]) => `${command} ${two(perRequest)}`);
  return shown.length === 0 ? '0' : `${two(summary.redisCommandsPerRequest)} (${shown.join(', ')})`;
}

function variantRows(report: Report, adapter: string): string[][] {
  const hasFloor = report.summaries.some((summary) => summary.variant.id === `${adapter}-floor`);
  const labelOf = (variant: Variant): string =>
    variant.unguardedBaseline === 'floor' && hasFloor ? `${variant.label} (unguarded: the floor's route)` : variant.label;
  const rows = report.summaries
    .filter((summary) => summary.variant.adapter === adapter)
    .map((summary) => {
      const g = summary.guarded;
      if (!g) return [summary.variant.label, int(summary.openRps), '–', '–', `– / ${one(summary.openP99Ms)}`, '–', `${int(summary.openCpuMicros)}`, '–'];
      return [
        labelOf(summary.variant),
        int(summary.openRps),
        int(g.rps),
        spreadText(g.ratio),
        `${one(g.p50Ms)} / ${one(g.p99Ms)}`,
        one(g.p99AddedMs),
        `${int(summary.openCpuMicros)} → ${int(g.cpuMicros)} (${signed(g.cpuAddedMicros)})`,
        commandsText(g),
      ];
    });
  const missing = report.unavailable
    .filter(({ variant }) => variant.adapter === adapter)
    .map(({ variant, reason }) => [variant.label, reason, '', '', '', '', '', '']);
  return [...rows, ...missing];
}

/** Above this share of the cores taken by other processes, the run's numbers say little. */
const BUSY_SHARE = 0.1;

/** The run as Markdown: printed at the end of every run and written to bench/RESULTS.md. */
export function renderReport(report: Report): string {
  const { settings, machine } = report;
  const packages = Object.entries(machine.packages).map(([name, version]) => `${name} ${version}`).join(', ');
  const header = [
    'variant', 'unguarded req/s', 'guarded req/s', 'ratio median [quartiles]', 'guarded p50 / p99 ms', 'p99 added ms',
    'server CPU µs/req unguarded → guarded (added)', 'Redis commands/req (guarded)',
  ];
  const adapters = [...new Set([...report.summaries, ...report.unavailable].map((entry) => entry.variant.adapter))];
  return [
    '# Benchmark results',
    '',
    `\`${settings.quick ? 'BENCH_QUICK=1 ' : ''}npm run bench\`, ${settings.startedAt.toISOString()}: ${settings.rounds} interleaved round(s), ` +
      `${settings.seconds} s per route and round in slices of ${settings.sliceSeconds} s that alternate between the two routes, ` +
      `${settings.connections} connections (autocannon in the bench process, each app in its own Node ` +
      `process), ${Math.round(settings.durationSeconds)} s in all. Ratios compare a guarded route with the unguarded route of the same ` +
      "process (for the rows marked so, the floor's) in the slice next to it; the median and quartiles are over these pairs. " +
      'p99 is over all of a route\'s requests in the run. How to read each row: README, "Performance".',
    '',
    settings.foreignCpuShare > BUSY_SHARE
      ? `**The machine was busy**: other processes used ${percent(settings.foreignCpuShare)} of its CPU during the rounds, so these numbers are noise. Run again on a quiet machine.\n`
      : `Other processes used ${percent(settings.foreignCpuShare)} of the machine's CPU during the rounds.\n`,
    `CPU placement: ${settings.pinning ?? 'none (the scheduler placed the processes; BENCH_PIN=0, one core, or no taskset)'}.\n`,
    table(['machine', ''], [
      ['CPU', `${machine.cpuModel}, ${machine.cores} cores (1-minute load ${two(machine.loadAverage)} at start)`],
      ['Node', machine.node],
      ['redis-server', machine.redisServer],
      ...(machine.postgres ? [['PostgreSQL', machine.postgres]] : []),
      ['commit', machine.commit],
      ['packages', packages],
    ]),
    ...adapters.flatMap((adapter) => ['', `## ${adapter[0].toUpperCase()}${adapter.slice(1)}`, '', table(header, variantRows(report, adapter))]),
    '',
    "## The module's tax on a route without a guard",
    '',
    table(
      ['adapter', 'unguarded req/s without SessionModule', 'with SessionModule', 'ratio median [quartiles]', 'tax'],
      report.moduleTax.map((tax) => [tax.adapter, int(tax.floorRps), int(tax.withModuleRps), spreadText(tax.ratio), `${one((1 - tax.ratio.median) * 100)}%`]),
    ),
    '',
    '## Redis bytes per session (two small data keys, `MEMORY USAGE … SAMPLES 0`)',
    '',
    table(
      ['variant', 'bytes', 'keys it adds: type (encoding) bytes'],
      report.bytes.map(({ variant, footprint }) => [
        variant.label,
        String(footprint.bytes),
        footprint.keys.map((key) => `${key.type} (${key.encoding}) ${key.bytes}`).join('; '),
      ]),
    ),
    '',
    '## Targets (issue 9)',
    '',
    table(['target', 'measured', ''], report.targets.map((target) => [target.target, target.measured, target.status])),
    '',
  ].join('\n');
}
