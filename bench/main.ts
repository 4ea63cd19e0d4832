// `npm run bench`: every variant next to its own unguarded route, interleaved over rounds, in
// one process tree: a private redis-server (and PostgreSQL when a variant needs it), each app
// in its own Node process, autocannon here. Prints the tables and the targets of issue 9 and
// writes bench/RESULTS.md. Settings: README, "Performance".
import { mkdirSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { startRedisServer } from '../test/support/redis-server.js';
import { bootVariants, type LiveVariant } from './boot-variants.js';
import { bytesPerSession } from './measure/bytes-per-session.js';
import { watchForeignCpu } from './measure/machine-cpu.js';
import { runSeries, type SeriesResult } from './measure/series.js';
import { renderReport, type Report, type RunSettings } from './report.js';
import { planCpuPinning, pinProcess } from './support/cpu-pinning.js';
import { describeMachine } from './support/machine.js';
import { moduleTaxes, summarize, type TaxRun, type VariantRun } from './summary.js';
import { evaluateTargets } from './targets.js';
import { keyPrefixOf, VARIANTS } from './variants.js';

const quick = process.env.BENCH_QUICK === '1';
const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
const settings: RunSettings = {
  quick,
  rounds: Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 5)),
  seconds: Number(process.env.BENCH_SECONDS ?? (quick ? 1 : 3)),
  sliceSeconds: Number(process.env.BENCH_SLICE_SECONDS ?? 0.5),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 50),
  startedAt: new Date(),
  durationSeconds: 0,
  foreignCpuShare: 0,
  pinning: null,
};
const WARMUP_SECONDS = quick ? 0.5 : 1;
// Ctrl-C still stops every server this run started (their exit hooks run on process.exit).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/** A series had answers other than 2xx: nothing this run measured can be trusted. */
class InvalidRunError extends Error {}

async function measure(live: LiveVariant, route: 'open' | 'guarded', seconds: number, redis: Redis, label: string): Promise<SeriesResult> {
  const result = await runSeries({
    url: `${live.app.base}/${route}`,
    headers: route === 'guarded' ? live.headers : {},
    pid: live.app.pid,
    redis,
    seconds,
    connections: settings.connections,
  });
  console.log(`${label} ${live.variant.id} ${route}: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.p99Ms} ms`);
  if (result.failures > 0 || result.requests === 0) {
    const what = result.failures > 0 ? result.failureDetail : 'no answer at all';
    throw new InvalidRunError(`${live.variant.id} ${route} (${label}): ${what} of ${result.requests + result.failures} requests. The app's log:\n${live.app.output().slice(-2000)}`);
  }
  return result;
}

async function main(): Promise<number> {
  const variants = VARIANTS.filter((variant) => !only || only.test(variant.id));
  const machine = describeMachine();
  const redisServer = await startRedisServer();
  const redis = new Redis(redisServer.url);
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  const pinning = planCpuPinning();
  if (pinning) {
    pinProcess(process.pid, pinning.rest);
    pinProcess(redisPid, pinning.rest);
    settings.pinning = pinning.describe();
  }
  const booted = await bootVariants(variants, redis, redisServer.url, pinning).catch(async (error: unknown) => {
    await redisServer.stop();
    throw error;
  });
  const { live, unavailable, postgres } = booted;
  try {
    if (postgres) machine.postgres = postgres.version;
    const bytes: Report['bytes'] = [];
    for (const { variant, app } of live) {
      if (variant.countBytesPerSession && variant.credential) {
        bytes.push({ variant, footprint: await bytesPerSession(redis, app.base, variant.credential, keyPrefixOf(variant)) });
      }
    }
    const routes = (one: LiveVariant): Array<'open' | 'guarded'> => (one.variant.credential ? ['open', 'guarded'] : ['open']);
    const liveById = (id: string): LiveVariant | undefined => live.find((one) => one.variant.id === id);
    const floorOf = (one: LiveVariant): LiveVariant | undefined => liveById(`${one.variant.adapter}-floor`);
    // Where a peer's unguarded slices come from: the floor's app when the variant asks for it.
    const unguardedOf = (one: LiveVariant): LiveVariant => (one.variant.unguardedBaseline === 'floor' ? floorOf(one) : undefined) ?? one;
    for (const one of live) {
      if (one.variant.unguardedBaseline === 'floor' && !floorOf(one)) {
        console.warn(`${one.variant.id}: its floor is not in this run (BENCH_ONLY), so its ratio is against its own GET /open, which runs its middleware too.`);
      }
    }
    for (const one of live) for (const route of routes(one)) await measure(one, route, WARMUP_SECONDS, redis, 'warm-up');

    const foreignCpu = watchForeignCpu([...live.map((one) => one.app.pid), redisPid]);
    const runs = new Map<string, VariantRun>(live.map((one) => [one.variant.id, { variant: one.variant, open: [], guarded: [] }]));
    // A round gives each variant `seconds` per route, as pairs of short slices that alternate
    // between its two routes: this VM's speed drifts within a second, so routes measured
    // back to back in slices see the same machine, and each pair is one ratio.
    const pairs = Math.max(1, Math.round(settings.seconds / settings.sliceSeconds));
    // The module's tax: each adapter's floor and its session-mode Redis app, GET /open of both in
    // alternating slices too (in the variants' own pairs they are seconds apart).
    const taxed = ['express', 'fastify'].flatMap((adapter) => {
      const floor = liveById(`${adapter}-floor`);
      const withModule = liveById(`${adapter}-session-redis`);
      return floor && withModule ? [{ run: { adapter, floor: [], withModule: [] } as TaxRun, floor, withModule }] : [];
    });
    for (let round = 0; round < settings.rounds; round++) {
      for (const one of live) {
        for (let pair = 0; pair < pairs; pair++) {
          // Alternate which route goes first, so a drift within a pair does not favour one side.
          const order = (round * pairs + pair) % 2 === 0 ? routes(one) : [...routes(one)].reverse();
          const label = `round ${round + 1}/${settings.rounds} pair ${pair + 1}/${pairs}`;
          for (const route of order) {
            const target = route === 'open' ? unguardedOf(one) : one;
            runs.get(one.variant.id)![route].push(await measure(target, route, settings.sliceSeconds, redis, `${label} for ${one.variant.id}`));
          }
        }
      }
      for (const { run, floor, withModule } of taxed) {
        for (let pair = 0; pair < pairs; pair++) {
          const label = `round ${round + 1}/${settings.rounds} tax pair ${pair + 1}/${pairs}`;
          const first = (round * pairs + pair) % 2 === 0;
          for (const side of first ? (['floor', 'withModule'] as const) : (['withModule', 'floor'] as const)) {
            run[side].push(await measure(side === 'floor' ? floor : withModule, 'open', settings.sliceSeconds, redis, label));
          }
        }
      }
    }

    settings.foreignCpuShare = foreignCpu();
    const summaries = [...runs.values()].map(summarize);
    const taxes = moduleTaxes(taxed.map(({ run }) => run));
    const targets = evaluateTargets({
      summaries: new Map(summaries.map((summary) => [summary.variant.id, summary])),
      moduleTax: new Map(taxes.map((tax) => [tax.adapter, tax.ratio])),
      bytesPerSession: new Map(bytes.map(({ variant, footprint }) => [variant.id, footprint.bytes])),
    });
    settings.durationSeconds = (Date.now() - settings.startedAt.getTime()) / 1000;
    const markdown = renderReport({ settings, machine, summaries, unavailable, moduleTax: taxes, bytes, targets });
    console.log(`\n${markdown}`);
    return record(markdown, targets.some((target) => target.status === 'MISS'));
  } finally {
    await Promise.all(live.map((one) => one.app.stop()));
    redis.disconnect();
    await redisServer.stop();
    postgres?.stop();
  }
}

/** Writes the results where they belong; the exit code. */
function record(markdown: string, missed: boolean): number {
  // Only a full run of every variant replaces the recorded results (BENCH_RESULTS names another file, e.g. a run on another Node).
  const file = quick || only ? `dist-bench/RESULTS.${quick ? 'quick' : 'partial'}.md` : (process.env.BENCH_RESULTS ?? 'bench/RESULTS.md');
  mkdirSync('dist-bench', { recursive: true });
  writeFileSync(file, markdown);
  console.log(`All series answered 2xx only. Written to ${file}.`);
  if (missed && process.env.BENCH_STRICT === '1') {
    console.error('BENCH_STRICT=1: a target was missed.');
    return 2;
  }
  return 0;
}

process.exitCode = await main().catch((error: unknown) => {
  if (error instanceof InvalidRunError) {
    console.error(`\nINVALID RUN, stopped: a series had answers other than 2xx; bench/RESULTS.md left as it was.\n${error.message}`);
  } else {
    console.error(error instanceof Error ? error.stack : error);
  }
  return 1;
});
// Stray handles (a client a broken app left open) must not keep the bench alive.
process.exit();
