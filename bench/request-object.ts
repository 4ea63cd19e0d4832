// `npm run bench:request`: what it costs, inside a request handler under load, to touch the request
// object the way a guard does (add a property, look one up that is not there, read `protocol`),
// on Node's own IncomingMessage, on Express 5's request and on Fastify's. It explains why the
// module's guard costs several times more CPU over HTTP on Express than in process (see README,
// "Performance"), and why the module adds as few properties to a request as it can.
// Writes bench/REQUEST-OBJECT.md.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import express from 'express';
import Fastify from 'fastify';
import { describeMachine } from './support/machine.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

type RequestObject = Record<PropertyKey, unknown>;

const LACKING = Symbol('bench:lacking');
const ADDED = Symbol('bench:added');
const USER = Object.freeze({ id: 'bench-user' });
const weak = new WeakMap<object, unknown>();

/** What a guard may do to the request, each timed on its own, in this order, once per request. */
const PROBES: Array<{ label: string; run: (request: RequestObject) => unknown }> = [
  { label: 'nothing (the timer itself)', run: () => undefined },
  { label: 'look up a property it lacks (a symbol)', run: (request) => request[LACKING] },
  { label: 'look it up again', run: (request) => request[LACKING] },
  { label: 'add a property (a symbol)', run: (request) => (request[ADDED] = true) },
  { label: 'add `user`', run: (request) => (request.user = USER) },
  { label: '`WeakMap.set` keyed by the request', run: (request) => weak.set(request, true) },
  { label: 'read `protocol` (a getter on Express)', run: (request) => request.protocol },
];

/** Per probe, the nanoseconds each request took, in arrival order. */
type Samples = number[][];

function probe(request: RequestObject, samples: Samples): void {
  PROBES.forEach((step, index) => {
    const start = process.hrtime.bigint();
    step.run(request);
    samples[index].push(Number(process.hrtime.bigint() - start));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function load(server: Server): Promise<void> {
  const { port } = server.address() as AddressInfo;
  const result = await autocannon({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration: SECONDS });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors`);
}

/** Listens on a free port, answers the load, closes. */
async function underLoad(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  await load(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function nodeHttp(samples: Samples): Promise<void> {
  return underLoad(
    createServer((request, response) => {
      probe(request as unknown as RequestObject, samples);
      response.end('{"ok":true}');
    }),
  );
}

function express5(samples: Samples): Promise<void> {
  const app = express();
  app.get('/', (request, response) => {
    probe(request as unknown as RequestObject, samples);
    response.json({ ok: true });
  });
  return underLoad(createServer(app));
}

async function fastify(samples: Samples): Promise<void> {
  const app = Fastify();
  app.get('/', (request, reply) => {
    probe(request as unknown as RequestObject, samples);
    void reply.send({ ok: true });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  await load(app.server);
  await app.close();
}

const SERVERS: Array<{ label: string; serve: (samples: Samples) => Promise<void> }> = [
  { label: 'Node IncomingMessage', serve: nodeHttp },
  { label: 'Express 5 request', serve: express5 },
  { label: 'Fastify request', serve: fastify },
];

const columns: number[][] = [];
for (const { label, serve } of SERVERS) {
  const samples: Samples = PROBES.map(() => []);
  await serve(samples);
  console.log(`${label}: ${samples[0].length} requests`);
  columns.push(samples.map(median));
}

const machine = describeMachine();
const row = (cells: Array<string | number>): string => `| ${cells.join(' | ')} |`;
const lines = [
  '# Touching the request object',
  '',
  `\`npm run bench:request\`, ${new Date().toISOString()}: each server answers \`GET /\` under autocannon (${CONNECTIONS} connections, ${SECONDS} s, in this process), and its handler times each step below on the request it was given, once per request, with \`process.hrtime.bigint()\`. Median ns per request, the timer's own cost included (first row). ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, express ${machine.packages.express}, fastify ${machine.packages.fastify}.`,
  '',
  'Express 5 swaps the prototype of every request and response (`Object.setPrototypeOf` in `app.handle`). V8 keeps no transition from a map made by a prototype change: each property added to such a request makes a new hidden class, so no two requests share one and no lookup on them is cached from the request before.',
  '',
  row(['step', ...SERVERS.map(({ label }) => label)]),
  row(['---', ...SERVERS.map(() => '---')]),
  ...PROBES.map(({ label }, index) => row([label, ...columns.map((column) => Math.round(column[index]).toLocaleString('en-US'))])),
  '',
];
writeFileSync(new URL('../../bench/REQUEST-OBJECT.md', import.meta.url), lines.join('\n'));
console.log(lines.join('\n'));
