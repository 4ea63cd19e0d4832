// `npm run bench:path`: where the time of a guarded request goes, step by step, over real HTTP.
// One app per adapter whose routes each add one step of a guarded request (see
// servers/request-path-app.ts), measured in short slices that cycle through the routes, so that
// adjacent steps see the same machine. Writes bench/REQUEST-PATH.md.
import { writeFileSync } from 'node:fs';
import type { Adapter } from './servers/app-spec.js';
import { REQUEST_PATH_ROUTES } from './servers/request-path-app.js';
import { runSeries, type SeriesResult } from './measure/series.js';
import { int, spreadText, table } from './report.js';
import { startApp, type AppProcess } from './support/app-process.js';
import { planCpuPinning, pinProcess } from './support/cpu-pinning.js';
import { logIn, type Headers } from './support/credentials.js';
import { describeMachine } from './support/machine.js';
import { median, spread, type Spread } from './summary.js';

const CYCLES = Number(process.env.BENCH_CYCLES ?? 30);
const SLICE_SECONDS = Number(process.env.BENCH_SLICE_SECONDS ?? 0.5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ADAPTERS: Adapter[] = process.env.BENCH_ADAPTER ? [process.env.BENCH_ADAPTER as Adapter] : ['express', 'fastify'];

type Route = (typeof REQUEST_PATH_ROUTES)[number];

const STEP_TEXT: Record<Route, string> = {
  open: 'no guard (`GET /open`)',
  'step/guard': "+ an async guard that lets the request through, `@CurrentUser('id')`: Nest's own cost of a guard",
  'step/no-store': '+ `Cache-Control: no-store` and `Vary: Cookie, Authorization` on the answer',
  'step/request-facts': '+ the request facts and the response sink the session layer reads and writes through',
  'step/open-session': '+ `SessionManager.open`: the cookie found and verified, the memory store read, the Session',
  guarded: 'the shipped `SessionGuard` (adds the once-per-request memo, the CSRF check, the trace context)',
};

interface RouteRow {
  route: Route;
  rps: number;
  /** This route ÷ `/open`, cycle by cycle. */
  ratio: Spread;
  cpuMicros: number;
  /** CPU per request over `/open`, cycle by cycle. */
  addedMicros: number;
  /** CPU per request over the previous step, cycle by cycle. */
  stepMicros: number;
}

async function measureAdapter(adapter: Adapter, cpuForApp: string | null): Promise<RouteRow[]> {
  const app: AppProcess = await startApp({ kind: 'request-path', adapter });
  try {
    if (cpuForApp !== null) pinProcess(app.pid, cpuForApp);
    const headers: Headers = await logIn(app.base, 'module-cookie', 'bench-user');
    const slice = async (route: Route, seconds: number): Promise<SeriesResult> => {
      const result = await runSeries({ url: `${app.base}/${route}`, headers, pid: app.pid, seconds, connections: CONNECTIONS });
      if (result.failures > 0 || result.requests === 0) {
        throw new Error(`${adapter} /${route}: ${result.failureDetail || 'no answer'}. The app's log:\n${app.output().slice(-2000)}`);
      }
      return result;
    };
    for (const route of REQUEST_PATH_ROUTES) await slice(route, 1); // warm-up: JIT, connections
    const series = new Map<Route, SeriesResult[]>(REQUEST_PATH_ROUTES.map((route) => [route, []]));
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      // Every other cycle runs backwards, so a drift within a cycle does not favour one end.
      const order = cycle % 2 === 0 ? REQUEST_PATH_ROUTES : [...REQUEST_PATH_ROUTES].reverse();
      for (const route of order) series.get(route)!.push(await slice(route, SLICE_SECONDS));
      console.log(`${adapter}: cycle ${cycle + 1}/${CYCLES}`);
    }
    const open = series.get('open')!;
    return REQUEST_PATH_ROUTES.map((route, index) => {
      const own = series.get(route)!;
      const previous = series.get(REQUEST_PATH_ROUTES[Math.max(0, index - 1)])!;
      return {
        route,
        rps: median(own.map((one) => one.requestsPerSecond)),
        ratio: spread(own.map((one, cycle) => one.requestsPerSecond / open[cycle].requestsPerSecond)),
        cpuMicros: median(own.map((one) => one.cpuMicrosPerRequest)),
        addedMicros: median(own.map((one, cycle) => one.cpuMicrosPerRequest - open[cycle].cpuMicrosPerRequest)),
        stepMicros: median(own.map((one, cycle) => one.cpuMicrosPerRequest - previous[cycle].cpuMicrosPerRequest)),
      };
    });
  } finally {
    await app.stop();
  }
}

const pinning = planCpuPinning();
if (pinning) pinProcess(process.pid, pinning.rest);
const machine = describeMachine();
const started = new Date();
const sections: string[] = [];
for (const adapter of ADAPTERS) {
  const rows = await measureAdapter(adapter, pinning?.app ?? null);
  sections.push(
    `## ${adapter === 'express' ? 'Express' : 'Fastify'}`,
    '',
    table(
      ['route', 'what it adds', 'req/s', 'ratio to /open, median [quartiles]', 'server CPU µs/req', 'added over /open', 'added by this step'],
      rows.map((row) => [
        `\`/${row.route}\``,
        STEP_TEXT[row.route],
        int(row.rps),
        spreadText(row.ratio),
        row.cpuMicros.toFixed(0),
        row.addedMicros.toFixed(1),
        row.route === 'open' ? '–' : row.stepMicros.toFixed(1),
      ]),
    ),
    '',
  );
}
const lines = [
  '# Where a guarded request spends its time',
  '',
  `\`npm run bench:path\`, ${started.toISOString()}: ${CYCLES} cycles through the routes below, ${SLICE_SECONDS} s per route and cycle, ` +
    `${CONNECTIONS} connections, session mode on the memory store (no network in any step), ${pinning ? pinning.describe() : 'not pinned'}. ` +
    `${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, commit ${machine.commit}. Each route does what the one above ` +
    'does and one step more; differences are medians of the per-cycle differences. How to read it: README, "Performance".',
  '',
  ...sections,
];
console.log(lines.join('\n'));
writeFileSync(new URL('../../bench/REQUEST-PATH.md', import.meta.url), lines.join('\n'));
process.exit(0);
