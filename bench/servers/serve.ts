// One bench app in its own process (forked by the bench with an IPC channel), so that the
// load generator never shares its event loop and /proc/<pid>/stat counts only this app's CPU.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Module, type DynamicModule, type INestApplication, type NestApplicationOptions, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SessionConfigurationError } from '../../src/index.js';
import type { AppMessage, AppSpec } from './app-spec.js';
import { createExpressSessionApp } from './express-session-app.js';
import { GetexBenchApp } from './getex-app.js';
import { ModuleBenchApp } from './module-app.js';
import { OpenController } from './open.controller.js';
import { PassportJwtBenchApp } from './passport-jwt-app.js';
import { RequestPathBenchApp } from './request-path-app.js';

@Module({ controllers: [OpenController] })
class PlainBenchApp {}

// abortOnError off: a failing provider throws here (and its option reaches the bench) instead of exiting.
const NEST_OPTIONS: NestApplicationOptions = { logger: ['error'], forceCloseConnections: true, abortOnError: false };

async function createNestApp(root: Type<unknown> | DynamicModule, adapter: AppSpec['adapter']): Promise<INestApplication> {
  if (adapter === 'express') return NestFactory.create(root, NEST_OPTIONS);
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  return NestFactory.create(root, new FastifyAdapter(), NEST_OPTIONS);
}

function createApp(spec: AppSpec): Promise<INestApplication> {
  switch (spec.kind) {
    case 'plain':
      return createNestApp(PlainBenchApp, spec.adapter);
    case 'module':
      return createNestApp(ModuleBenchApp.register(spec), spec.adapter);
    case 'getex':
      return createNestApp(GetexBenchApp.register(spec), spec.adapter);
    case 'express-session':
      return createExpressSessionApp(spec);
    case 'passport-jwt':
      return createNestApp(PassportJwtBenchApp, 'express');
    case 'request-path':
      return createNestApp(RequestPathBenchApp, spec.adapter);
  }
}

function tell(message: AppMessage): Promise<void> {
  return new Promise((resolve) => (process.send ? process.send(message, () => resolve()) : resolve()));
}

// The bench going away (or closing the channel) ends the app: no orphaned servers.
process.on('disconnect', () => process.exit(0));

try {
  const app = await createApp(JSON.parse(process.env.BENCH_APP ?? '') as AppSpec);
  await app.listen(0, '127.0.0.1');
  await tell({ type: 'ready', port: (app.getHttpServer().address() as AddressInfo).port });
} catch (error) {
  const option = error instanceof SessionConfigurationError ? error.option : undefined;
  await tell({ type: 'failed', message: (error as Error).message, ...(option !== undefined && { option }) });
  // A half-built app may hold connections open: leave anyway.
  process.exit(1);
}
