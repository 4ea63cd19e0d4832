/**
 * The demo as `npm start` runs it: built, started as a process with its own bootstrap
 * (src/demo/main.ts), against the suite's own redis-server. Behind TRUST_PROXY=1 it trusts one
 * proxy hop on both adapters; SIGINT and SIGTERM stop it promptly even while keep-alive
 * connections keep sending.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { compileDemo } from './support/demo-processes.js';
import { getFreePort } from './support/free-port.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, TEST_SECRET, type AdapterName } from './support/test-app.js';

const ALICE = { username: 'alice', password: 'alice-demo-password' };
/** "Promptly": the demo stops well within a second; the margin is for a machine shared by several suites. */
const STOPS_WITHIN_MS = 2_000;
const GIVE_UP_MS = 10_000;

let build: string;
let redis: RedisServerHandle;
let inspector: Redis;

beforeAll(async () => {
  build = compileDemo('demo-process-');
  redis = await startRedisServer();
  inspector = new Redis(redis.url);
}, 120_000);

afterAll(async () => {
  await inspector?.quit();
  await redis?.stop();
  if (build) rmSync(build, { recursive: true, force: true });
});

/** Connections to the suite's Redis other than the inspector's own (which is running CLIENT LIST). */
async function demoConnections(): Promise<number> {
  const list = (await inspector.client('LIST')) as string;
  return list.split('\n').filter((line) => line.includes('cmd=') && !line.includes('cmd=client')).length;
}

interface RunningDemo {
  child: ChildProcess;
  port: number;
  agent: Agent;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: RunningDemo[] = [];

afterEach(async () => {
  for (const demo of running.splice(0)) {
    demo.agent.destroy();
    if (demo.child.exitCode === null && demo.child.signalCode === null) demo.child.kill('SIGKILL');
    await demo.exited;
  }
});

async function startDemo(adapter: AdapterName, env: NodeJS.ProcessEnv = {}): Promise<RunningDemo> {
  const port = await getFreePort();
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    ADAPTER: adapter,
    SESSION_SECRET: TEST_SECRET,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: `demo-process-${port}:`,
    ...env,
  };
  delete childEnv.NODE_OPTIONS;
  delete childEnv.AUTH_MODE;
  let output = '';
  const child = spawn(process.execPath, [join(build, 'dist', 'demo', 'main.js')], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const demo: RunningDemo = { child, port, agent: new Agent({ keepAlive: true }), output: () => output, exited };
  running.push(demo);
  const deadline = Date.now() + 30_000;
  while (!/Listening on/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the demo did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return demo;
}

/** One request over the demo's keep-alive agent. */
function send(
  demo: RunningDemo,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: demo.port,
        method,
        path,
        agent: demo.agent,
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...options.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe.each(ADAPTERS)('the demo process over %s', (adapter) => {
  it('with TRUST_PROXY=1 records the last X-Forwarded-For hop, the one its proxy added, not a spoofed first one', async () => {
    const demo = await startDemo(adapter, { TRUST_PROXY: '1' });
    const login = await send(demo, 'POST', '/auth/login', { body: ALICE, headers: { 'X-Forwarded-For': '203.0.113.66, 198.51.100.4' } });
    expect(login.status).toBe(200);
    const cookie = String((login.headers['set-cookie'] as string[])[0]).split(';')[0];
    const sessions = await send(demo, 'GET', '/auth/sessions', { headers: { Cookie: cookie } });
    expect(sessions.status).toBe(200);
    expect((JSON.parse(sessions.body) as Array<{ ip: string }>).map((session) => session.ip)).toEqual(['198.51.100.4']);
  }, 60_000);

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'stops promptly on %s while keep-alive connections keep sending, and leaves no Redis connection behind',
    async (signal) => {
      const demo = await startDemo(adapter);
      expect(await demoConnections()).toBeGreaterThan(0);
      // A load run: several connections, each sending the next login as soon as the last is answered.
      let sending = true;
      const loops = Array.from({ length: 8 }, async () => {
        while (sending) {
          try {
            await send(demo, 'POST', '/auth/login', { body: { username: 'alice', password: 'wrong' } });
          } catch {
            return; // the demo closed the connection
          }
        }
      });
      // And one kept-alive connection that sits idle.
      expect((await send(demo, 'GET', '/demo/ping')).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));

      const signalled = Date.now();
      demo.child.kill(signal);
      const giveUp = setTimeout(() => demo.child.kill('SIGKILL'), GIVE_UP_MS);
      const exit = await demo.exited;
      const elapsed = Date.now() - signalled;
      clearTimeout(giveUp);
      sending = false;
      await Promise.all(loops);

      expect({ exit, elapsedBelowLimit: elapsed < STOPS_WITHIN_MS }).toEqual({ exit: { code: null, signal }, elapsedBelowLimit: true });
      expect(demo.output()).not.toMatch(/Error during shutdown|ERROR/);
      expect(await demoConnections()).toBe(0);
    },
    60_000,
  );
});
