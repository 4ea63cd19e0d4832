// Per-request cost of the module, measured on the built package (run `npm run build` first):
//   node scripts/profile-request.mjs [variant ...]      (default: every variant)
// Each variant is a small Nest app in a child process with a route without any guard (/open),
// one behind AuthenticatedGuard (/guarded) and one that also takes @CurrentSession() (/session).
// The parent fires keep-alive requests at each route with autocannon for SECONDS, in
// interleaved rounds, and reads the child's CPU time from /proc: CPU µs per request, req/s, and
// each route's ratio to /open of the same process and round; the CPU ratio is /open's CPU per
// request over the route's (the throughput ratio of a server that is CPU-bound). `bare` is the same app without
// SessionModule, for the module's tax on unguarded routes. A variant `name@dir` runs over the
// build in `dir` instead of dist (e.g. a copy of main's dist, for before/after in one run). PROFILE=1 writes a --cpu-prof of
// each child to /tmp/profile-request/. Not a test: the machine may be shared, so compare ratios
// within one run. Env: ROUNDS (3), SECONDS per series (2), CONNECTIONS (50).
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const SECRET = 'profile-secret-that-is-at-least-32-characters-long';
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 2);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);

const VARIANTS = {
  'express-bare': { adapter: 'express', mode: null },
  // The floor of any global interceptor: one that only returns next.handle().
  'express-noop-interceptor': { adapter: 'express', mode: null, noopInterceptor: true },
  'express-session-memory': { adapter: 'express', mode: 'session', store: 'memory' },
  'express-session-redis': { adapter: 'express', mode: 'session', store: 'redis' },
  'express-jwt-stateless': { adapter: 'express', mode: 'jwt', store: 'memory', revocation: 'stateless' },
  'express-jwt-per-request': { adapter: 'express', mode: 'jwt', store: 'redis', revocation: 'per-request' },
  'fastify-bare': { adapter: 'fastify', mode: null },
  'fastify-session-redis': { adapter: 'fastify', mode: 'session', store: 'redis' },
  'fastify-jwt-stateless': { adapter: 'fastify', mode: 'jwt', store: 'memory', revocation: 'stateless' },
};

// ---------------------------------------------------------------- the app (child process)

async function serve(variant, { inProcess = false } = {}) {
  await import('reflect-metadata');
  const { Controller, Get, Module, UseGuards } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  // `variant@dir`: the same app over another build of the package, e.g. one of main for before/after.
  const [base, dist] = variant.split('@');
  const lib = await import(dist ? new URL(`../${dist}/index.js`, import.meta.url).href : '../dist/index.js');
  const config = VARIANTS[base];

  class Routes {
    open() {
      return { ok: true };
    }
    guarded() {
      return { ok: true };
    }
    session(session) {
      return { ok: true, keys: Object.keys(session.toJSON()).length };
    }
  }
  const route = (name, path, ...decorators) => {
    const descriptor = Object.getOwnPropertyDescriptor(Routes.prototype, name);
    for (const decorate of [Get(path), ...decorators]) decorate(Routes.prototype, name, descriptor);
  };
  route('open', 'open');
  if (config.mode) {
    route('guarded', 'guarded', UseGuards(lib.AuthenticatedGuard));
    route('session', 'session', UseGuards(lib.AuthenticatedGuard));
    lib.CurrentSession()(Routes.prototype, 'session', 0);
  }
  Controller()(Routes);

  const imports = [];
  const providers = [];
  if (config.noopInterceptor) {
    const { APP_INTERCEPTOR } = await import('@nestjs/core');
    providers.push({ provide: APP_INTERCEPTOR, useValue: { intercept: (_context, next) => next.handle() } });
  }
  if (config.mode) {
    imports.push(
      lib.SessionModule.forRoot({
        secret: SECRET,
        mode: config.mode,
        store: config.store === 'redis' ? { type: 'redis', url: process.env.REDIS_URL } : { type: 'memory' },
        validateUser: async (username, password) => (username === 'alice' && password === 'pw' ? { id: 'alice', roles: ['user'] } : null),
        routes: true,
        ...(config.mode === 'jwt' && { jwt: { keys: [{ kid: 'k1', alg: 'HS256', secret: SECRET }], revocation: config.revocation } }),
      }),
    );
  }
  class AppModule {}
  Module({ imports, providers, controllers: [Routes] })(AppModule);

  const logger = false;
  let app;
  if (config.adapter === 'fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger });
  } else {
    app = await NestFactory.create(AppModule, { logger });
  }
  await app.listen(inProcess ? 0 : Number(process.env.PORT), '127.0.0.1');
  if (inProcess) {
    // The client keeps its connections across rounds; the server must not close them meanwhile.
    app.getHttpServer().keepAliveTimeout = 600_000;
    return app;
  }
  process.send('ready');
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
}

// ---------------------------------------------------------------- the driver (parent process)

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** utime + stime of a process in µs (from /proc, clock ticks of 10 ms). */
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let attempt = 0; attempt < 50; attempt++) {
    const up = await new Promise((resolve) => {
      const socket = createServer().listen(port, '127.0.0.1');
      socket.on('listening', () => socket.close(() => resolve(false)));
      socket.on('error', () => resolve(true));
    });
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

async function startApp(variant, redisUrl) {
  const port = await freePort();
  const cpuProf = process.env.PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/profile-request', `--cpu-prof-name=${variant}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...cpuProf, fileURLToPath(import.meta.url), '--serve', variant], {
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), REDIS_URL: redisUrl ?? '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [message] = await once(child, 'message');
  if (message !== 'ready') throw new Error(`${variant} did not start`);
  return {
    child,
    base: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function credentials(base, mode) {
  const response = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'pw' }),
  });
  if (response.status !== 200) throw new Error(`login answered ${response.status}`);
  if (mode === 'jwt') return { authorization: `Bearer ${(await response.json()).accessToken}` };
  return { cookie: response.headers.get('set-cookie').split(';')[0] };
}

async function series(app, path, headers, duration = SECONDS) {
  const before = cpuMicros(app.child.pid);
  const result = await autocannon({ url: `${app.base}${path}`, headers, connections: CONNECTIONS, duration });
  const seconds = result.duration;
  const cpu = cpuMicros(app.child.pid) - before;
  const failures = result.non2xx + result.errors + result.timeouts;
  if (failures > 0) throw new Error(`${path}: ${failures} failed requests (status ${JSON.stringify(result.statusCodeStats)})`);
  return { rps: result.requests.total / seconds, cpuPerRequest: cpu / result.requests.total };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function drive(names) {
  const redis = names.some((name) => VARIANTS[name.split('@')[0]].store === 'redis') ? await startRedis() : null;
  const apps = {};
  try {
    for (const name of names) {
      const app = await startApp(name, redis?.url);
      const { mode } = VARIANTS[name.split('@')[0]];
      const headers = mode ? await credentials(app.base, mode) : {};
      const paths = (mode ? ['/open', '/guarded', '/session'] : ['/open']).filter((path) => !process.env.ROUTES || process.env.ROUTES.split(',').includes(path));
      for (const path of paths) await series(app, path, headers, 1); // warm-up
      apps[name] = { app, headers, paths, results: Object.fromEntries(paths.map((path) => [path, []])) };
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of names) {
        const { app, headers, paths, results } = apps[name];
        for (const path of paths) results[path].push(await series(app, path, headers));
      }
    }
  } finally {
    for (const { app } of Object.values(apps)) await app.stop();
    redis?.stop();
  }
  const rows = [];
  for (const name of names) {
    const { paths, results } = apps[name];
    for (const path of paths) {
      const ratios = results[path].map((result, round) => result.rps / (results['/open'] ?? results[path])[round].rps);
      const cpu = results[path].map((result) => result.cpuPerRequest);
      const openCpu = Math.min(...(results['/open'] ?? results[path]).map((result) => result.cpuPerRequest));
      rows.push({
        variant: name,
        route: path,
        'req/s': Math.round(median(results[path].map((result) => result.rps))),
        ratio: path === '/open' ? '-' : `${median(ratios).toFixed(2)} [${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}]`,
        // The least disturbed round: on a shared machine, other processes only ever add.
        'CPU µs/req (min)': Math.round(Math.min(...cpu)),
        'CPU µs/req (median)': Math.round(median(cpu)),
        'added µs (min)': path === '/open' ? '-' : Math.round(Math.min(...cpu) - openCpu),
        'CPU ratio': path === '/open' ? '-' : (openCpu / Math.min(...cpu)).toFixed(2),
      });
    }
  }
  console.log(`node ${process.version}, ${ROUNDS} rounds, ${SECONDS} s per series, c=${CONNECTIONS}`);
  console.table(rows);
}

// ---------------------------------------------------------------- IN_PROCESS=1: one process, short batches

/**
 * Every app in this process, driven over loopback by a keep-alive client in the same process,
 * in short interleaved batches; CPU per request from process.cpuUsage(). The client's own cost is
 * in every number alike, so what a route adds over /open is the module's. On a busy shared
 * machine the minimum over many batches is the least disturbed measurement.
 */
async function driveInProcess(names) {
  const { Agent, request } = await import('node:http');
  const BATCH = Number(process.env.BATCH ?? 400);
  const BATCHES = Number(process.env.BATCHES ?? 25);
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const get = (url, headers) =>
    new Promise((resolve, reject) => {
      request(url, { agent, headers }, (response) => {
        response.resume();
        response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${response.statusCode}`))));
      }).on('error', reject).end();
    });
  const batch = async (url, headers, count) => {
    let left = count;
    const worker = async () => {
      while (left-- > 0) await get(url, headers);
    };
    const before = process.cpuUsage();
    await Promise.all(Array.from({ length: Math.min(CONNECTIONS, count) }, worker));
    const used = process.cpuUsage(before);
    return (used.user + used.system) / count;
  };
  const redis = names.some((name) => VARIANTS[name.split('@')[0]].store === 'redis') ? await startRedis() : null;
  if (redis) process.env.REDIS_URL = redis.url;
  const apps = [];
  try {
    for (const name of names) {
      const app = await serve(name, { inProcess: true });
      const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      const { mode } = VARIANTS[name.split('@')[0]];
      const headers = mode ? await credentials(base, mode) : {};
      const paths = mode ? ['/open', '/guarded', '/session'] : ['/open'];
      for (const path of paths) await batch(`${base}${path}`, headers, 2000); // warm-up
      apps.push({ name, app, base, headers, paths, cpu: Object.fromEntries(paths.map((path) => [path, []])) });
    }
    for (let round = 0; round < BATCHES; round++) {
      for (const entry of apps) for (const path of entry.paths) entry.cpu[path].push(await batch(`${entry.base}${path}`, entry.headers, BATCH));
    }
  } finally {
    for (const { app } of apps) await app.close();
    agent.destroy();
    redis?.stop();
  }
  const rows = [];
  for (const { name, paths, cpu } of apps) {
    const open = Math.min(...cpu['/open']);
    for (const path of paths) {
      const min = Math.min(...cpu[path]);
      rows.push({
        variant: name,
        route: path,
        'CPU µs/req (min)': Math.round(min),
        'CPU µs/req (median)': Math.round(median(cpu[path])),
        'added µs': path === '/open' ? '-' : Math.round(min - open),
      });
    }
  }
  console.log(`node ${process.version}, in process, ${BATCHES} batches of ${BATCH} requests per route, ${CONNECTIONS} connections`);
  console.table(rows);
}

if (process.argv[2] === '--serve') {
  await serve(process.argv[3]);
} else {
  const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(VARIANTS);
  const unknown = names.filter((name) => !(name.split('@')[0] in VARIANTS));
  if (unknown.length > 0) throw new Error(`unknown variant ${unknown.join(', ')}; known: ${Object.keys(VARIANTS).join(', ')}`);
  await (process.env.IN_PROCESS ? driveInProcess(names) : drive(names));
}
