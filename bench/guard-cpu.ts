// `npm run bench:guard`: what each guard itself costs, in CPU per call, measured in one process
// without HTTP. On a shared VM a throughput ratio swings by a third from series to series (see
// bench/RESULTS.md); process CPU over many calls of the guard alone holds still to about 10%,
// which is what a change to the request path needs to be judged by. Writes bench/GUARD-CPU.md.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { CanActivate, DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { AuthenticatedGuard, JwtGuard, SessionGuard } from '../src/index.js';
import type { AppSpec } from './servers/app-spec.js';
import { GetexBenchApp, GetexGuard } from './servers/getex-app.js';
import { ModuleBenchApp } from './servers/module-app.js';
import { planCpuPinning, pinProcess } from './support/cpu-pinning.js';
import { logIn, type Headers } from './support/credentials.js';
import { VARIANTS } from './variants.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CALLS = Number(process.env.GUARD_CALLS ?? 50_000);
/** As many calls in flight as the HTTP bench has connections: store round trips overlap as they do under load. */
const CONCURRENCY = Number(process.env.BENCH_CONNECTIONS ?? 50);
const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;

const GUARDS: Record<string, Type<CanActivate>> = { session: SessionGuard, jwt: JwtGuard, hybrid: AuthenticatedGuard };

interface Subject {
  label: string;
  app: INestApplication;
  guard: CanActivate;
  headers: Headers;
}

function rootOf(spec: AppSpec): DynamicModule {
  if (spec.kind === 'module') return ModuleBenchApp.register(spec);
  if (spec.kind === 'getex') return GetexBenchApp.register(spec);
  throw new Error(`no in-process guard for ${spec.kind}`);
}

async function subjectOf(label: string, spec: AppSpec, credential: Parameters<typeof logIn>[1]): Promise<Subject> {
  const app = await NestFactory.create(rootOf(spec), { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const headers = await logIn(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`, credential, 'guard-cpu');
  const guard = app.get<CanActivate>(spec.kind === 'module' ? GUARDS[spec.mode] : GetexGuard, { strict: false });
  return { label, app, guard, headers };
}

// One route, as in an app: the guards cache what its metadata says per handler.
class GuardedController {}
function guarded(): void {}

/** A GET /guarded as Express hands it to a guard: the login's credential, a response that takes headers. */
function contextOf(headers: Headers): ExecutionContextHost {
  const request = { headers: { host: '127.0.0.1', ...headers }, method: 'GET', protocol: 'http', ip: '127.0.0.1' };
  const sent = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: string) => sent.set(name.toLowerCase(), value),
    getHeader: (name: string) => sent.get(name.toLowerCase()),
    append: (name: string, value: string) => sent.set(name.toLowerCase(), value),
  };
  const context = new ExecutionContextHost([request, response, () => undefined], GuardedController, guarded);
  context.setType('http');
  return context;
}

/** Microseconds of this process's CPU (user + system) per call of the guard. */
async function cpuPerCall(subject: Subject, calls: number): Promise<number> {
  const each = Math.ceil(calls / CONCURRENCY);
  const started = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = 0; i < each; i++) {
        if ((await subject.guard.canActivate(contextOf(subject.headers))) !== true) throw new Error(`${subject.label}: the guard refused its own login`);
      }
    }),
  );
  const used = process.cpuUsage(started);
  return (used.user + used.system) / (each * CONCURRENCY);
}

const pinning = planCpuPinning();
const redisServer = await startRedisServer();
if (pinning) {
  const redis = new Redis(redisServer.url);
  pinProcess(Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]), pinning.rest);
  await redis.quit();
  pinProcess(process.pid, pinning.app);
}
const servers = { redisUrl: redisServer.url };
const subjects: Subject[] = [];
for (const variant of VARIANTS) {
  if (variant.adapter !== 'express' || variant.credential === null || variant.needsPostgres || (only && !only.test(variant.id))) continue;
  const spec = variant.app(servers);
  if (spec.kind !== 'module' && spec.kind !== 'getex') continue;
  subjects.push(await subjectOf(variant.label, spec, variant.credential));
}
for (const subject of subjects) await cpuPerCall(subject, CALLS / 5); // warm-up: JIT, store connections
const samples = new Map<Subject, number[]>(subjects.map((subject) => [subject, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const subject of subjects) samples.get(subject)!.push(await cpuPerCall(subject, CALLS));
}
const lines = [
  '# Guard CPU per call',
  '',
  `\`npm run bench:guard\`, ${new Date().toISOString()}: ${ROUNDS} rounds of ${CALLS} calls, ${CONCURRENCY} in flight, each guard called in-process with a GET /guarded as Express hands it over (no HTTP), this process ${pinning ? `pinned to CPU ${pinning.app} and Redis to CPU ${pinning.rest}` : 'not pinned'}. Node ${process.version}.`,
  '',
  '| guard | µs CPU per call, median [min–max] |',
  '| --- | --- |',
  ...subjects.map((subject) => {
    const values = [...samples.get(subject)!].sort((a, b) => a - b);
    return `| ${subject.label} | ${values[Math.floor(values.length / 2)].toFixed(1)} [${values[0].toFixed(1)}–${values[values.length - 1].toFixed(1)}] |`;
  }),
  '',
];
console.log(lines.join('\n'));
writeFileSync(new URL('../../bench/GUARD-CPU.md', import.meta.url), lines.join('\n'));
for (const subject of subjects) await subject.app.close();
await redisServer.stop();
