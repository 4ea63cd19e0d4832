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

async function startApp(script, env) {
  const port = await freePort();
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), SESSION_SECRET: SECRET, ...env },
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/demo/ping`);
  return { base, stop: async () => { child.kill('SIGTERM'); await once(child, 'exit'); } };
}

/** Logs alice in; the credential header for the session-guarded route in the app's mode. */
async function login(base, mode) {
  const response = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'alice-demo-password' }),
  });
  if (response.status !== 200) throw new Error(`login answered ${response.status}`);
  if (mode === 'jwt') return { authorization: `Bearer ${(await response.json()).accessToken}` };
  return { cookie: response.headers.get('set-cookie').split(';')[0] };
}

async function measure(url, headers = {}) {
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: DURATION_SECONDS });
  const failures = result.non2xx + result.errors + result.timeouts;
  if (failures > 0) throw new Error(`${url}: ${failures} failed requests`);
  return Math.round(result.requests.average);
}

/** One row: the app's public /demo/ping next to its guarded route, in one app process. */
async function row(label, script, env, guardedPath, credentials) {
  const app = await startApp(script, env);
  try {
    const headers = await credentials(app.base);
    await measure(`${app.base}/demo/ping`); // warm-up
    const open = await measure(`${app.base}/demo/ping`);
    const guarded = await measure(`${app.base}${guardedPath}`, headers);
    rows.push({ ...label, 'unguarded req/s': open, 'guarded req/s': guarded, ratio: (guarded / open).toFixed(2) });
  } finally {
    await app.stop();
  }
}

const DEMO = 'dist/demo/main.js';
const BASELINE = 'dist-bench/baseline/passport-jwt.main.js';
const rows = [];
const redis = await startRedis();
try {
  const stores = { memory: {}, redis: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'bench:' } };
  for (const adapter of ['express', 'fastify']) {
    for (const [store, env] of Object.entries(stores)) {
      await row({ adapter, app: 'session cookie', store }, DEMO, { ...env, ADAPTER: adapter }, '/demo/session', (base) => login(base, 'session'));
    }
    for (const [revocation, store] of [['per-request', 'redis'], ['stateless', 'memory']]) {
      await row(
        { adapter, app: `jwt, ${revocation}`, store },
        DEMO,
        { ...stores[store], ADAPTER: adapter, AUTH_MODE: 'jwt', JWT_SECRET: SECRET, JWT_REVOCATION: revocation },
        '/demo/session',
        (base) => login(base, 'jwt'),
      );
    }
  }
  await row({ adapter: 'express', app: 'Nest docs passport-jwt', store: '-' }, BASELINE, {}, '/profile', async (base) => ({
    authorization: `Bearer ${(await (await fetch(`${base}/token`)).json()).accessToken}`,
  }));
} finally {
  redis.stop();
}
console.log(`autocannon, ${CONNECTIONS} connections, ${DURATION_SECONDS} s per route, node ${process.version}`);
console.table(rows);
