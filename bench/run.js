// `npm run bench`: requests per second of the demo app's unauthenticated route next to its
// session-guarded route, on the memory store and on a private redis-server, in one run.
// The app runs in a child process so autocannon does not share its event loop.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECRET = 'bench-secret-that-is-at-least-32-characters-long';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitFor(url, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

async function startRedis() {
  const port = await freePort();
  const child = spawn(process.env.REDIS_SERVER_BIN ?? 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
  ], { stdio: 'ignore' });
  child.on('error', () => {
    console.error('redis-server not found: install it (apt-get install redis-server) or set REDIS_SERVER_BIN');
    process.exit(1);
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

async function startDemo(env) {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/demo/main.js'], {
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), SESSION_SECRET: SECRET, ...env },
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/demo/ping`);
  return { base, stop: async () => { child.kill('SIGTERM'); await once(child, 'exit'); } };
}

async function login(base) {
  const response = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'alice-demo-password' }),
  });
  if (response.status !== 200) throw new Error(`login answered ${response.status}`);
  return response.headers.get('set-cookie').split(';')[0];
}

async function measure(url, headers = {}) {
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: DURATION_SECONDS });
  const failures = result.non2xx + result.errors + result.timeouts;
  if (failures > 0) throw new Error(`${url}: ${failures} failed requests`);
  return Math.round(result.requests.average);
}

const rows = [];
const redis = await startRedis();
try {
  for (const [store, env] of [['memory', {}], ['redis', { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'bench:' }]]) {
    for (const adapter of ['express', 'fastify']) {
      const demo = await startDemo({ ...env, ADAPTER: adapter });
      try {
        const cookie = await login(demo.base);
        await measure(`${demo.base}/demo/ping`); // warm-up
        const open = await measure(`${demo.base}/demo/ping`);
        const guarded = await measure(`${demo.base}/demo/session`, { cookie });
        rows.push({ adapter, store, 'unguarded req/s': open, 'session-guarded req/s': guarded, ratio: (guarded / open).toFixed(2) });
      } finally {
        await demo.stop();
      }
    }
  }
} finally {
  redis.stop();
}
console.log(`autocannon, ${CONNECTIONS} connections, ${DURATION_SECONDS} s per route, node ${process.version}`);
console.table(rows);
