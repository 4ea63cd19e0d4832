// `npm run build && node bench/lock-counter.js`: how long 200 concurrent POST /demo/counter take
// with the session lock and without it (?lock=off), against the demo app on a private
// redis-server (memory store too), and the counter each batch leaves. One run, one process: the
// numbers compare the two variants with each other, not with other benchmarks.
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as pause } from 'node:timers/promises';
import { createDemoApp } from '../dist/demo/demo-app.js';
import { readDemoConfig } from '../dist/demo/demo-config.js';
import { DemoUsers } from '../dist/demo/demo-users.js';

const INCREMENTS = Number(process.env.LOCK_BENCH_INCREMENTS ?? 200);

const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const chosen = probe.address().port;
    probe.close(() => resolve(chosen));
  });
});
const redisServer = spawn(process.env.REDIS_SERVER_BIN ?? 'redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
await pause(300);

const users = await DemoUsers.create();
const results = [];
try {
  for (const store of ['redis', 'memory']) {
    const env = { SESSION_SECRET: 'lock-bench-secret-of-at-least-32-characters', ...(store === 'redis' && { REDIS_URL: `redis://127.0.0.1:${port}` }) };
    const app = await createDemoApp(readDemoConfig(env), users, { logger: false });
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    try {
      for (const variant of ['lock', 'lock=off']) {
        const signedIn = await fetch(`${base}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'alice', password: 'alice-demo-password' }),
        });
        const cookie = signedIn.headers.get('set-cookie').split(';')[0];
        const path = variant === 'lock' ? '/demo/counter' : '/demo/counter?lock=off';
        const started = performance.now();
        const statuses = await Promise.all(
          Array.from({ length: INCREMENTS }, async () => (await fetch(`${base}${path}`, { method: 'POST', headers: { cookie } })).status),
        );
        const elapsedMs = performance.now() - started;
        const session = await (await fetch(`${base}/demo/session`, { headers: { cookie } })).json();
        results.push({
          store,
          variant,
          'ok answers': statuses.filter((status) => status === 200).length,
          'final counter': session.counter,
          'elapsed ms': Math.round(elapsedMs),
          'increments/s': Math.round((INCREMENTS / elapsedMs) * 1000),
        });
      }
    } finally {
      await app.close();
    }
  }
} finally {
  redisServer.kill('SIGTERM');
}
console.log(`${INCREMENTS} concurrent increments of one session's counter, node ${process.version}`);
console.table(results);
