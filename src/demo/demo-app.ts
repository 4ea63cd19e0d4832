import type { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { DemoConfig } from './demo-config.js';
import { DemoModule } from './demo.module.js';
import { withDemoOps } from './demo-ops.js';
import type { DemoUsers } from './demo-users.js';

/** The demo's Nest app on the configured adapter, not yet listening. `npm start` runs it through main.ts. */
export async function createDemoApp(config: DemoConfig, users: DemoUsers, options: NestApplicationOptions = {}): Promise<INestApplication> {
  const module = withDemoOps(DemoModule.register(config, users), config);
  // GRAPHQL=1 and WEBSOCKETS=1, loaded only when asked for.
  if (config.graphql) module.imports!.push(await (await import('./demo-graphql.js')).demoGraphqlModule(config.adapter, users));
  const ws = config.websockets ? await import('./demo-ws.js') : null;
  if (ws) module.imports!.push(ws.demoWsModule());
  // A keep-alive connection that keeps sending (a browser, a load test) would hold app.close(),
  // and with it the exit on Ctrl-C, open for as long as it sends: close them at shutdown.
  // rawBody: POST /demo/signed verifies the body's Content-Digest over the bytes as received.
  const appOptions: NestApplicationOptions = { forceCloseConnections: true, rawBody: true, ...options };
  if (config.adapter === 'fastify') {
    // Loaded only when asked for: @nestjs/platform-fastify is an optional peer.
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    // One proxy hop, as Express's 'trust proxy' 1 below: `true` would trust every
    // X-Forwarded-For entry, so a client could choose the address its session and throttle see.
    // A function, because this Fastify refuses a bare hop count (it trusts nothing then).
    const trustProxy = config.trustProxy ? trustOneProxyHop : false;
    const fastifyApp = await NestFactory.create(module, new FastifyAdapter({ trustProxy }), appOptions);
    return ws ? ws.useDemoWebSockets(fastifyApp) : fastifyApp;
  }
  const app = await NestFactory.create(module, appOptions);
  if (config.trustProxy) app.getHttpAdapter().getInstance().set('trust proxy', 1);
  return ws ? ws.useDemoWebSockets(app) : app;
}

/** proxy-addr's trust test: hop 0 is the peer that connected (the proxy), the only one trusted. */
function trustOneProxyHop(_address: string, hop: number): boolean {
  return hop < 1;
}
