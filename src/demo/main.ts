import 'reflect-metadata';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { readDemoConfig, type DemoConfig } from './demo-config.js';
import { DemoModule } from './demo.module.js';
import { DemoUsers } from './demo-users.js';

async function createApp(config: DemoConfig, users: DemoUsers): Promise<INestApplication> {
  const module = DemoModule.register(config, users);
  if (config.adapter === 'fastify') {
    // Loaded only when asked for: @nestjs/platform-fastify is an optional peer.
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    return NestFactory.create(module, new FastifyAdapter({ trustProxy: config.trustProxy }));
  }
  const app = await NestFactory.create(module);
  if (config.trustProxy) app.getHttpAdapter().getInstance().set('trust proxy', 1);
  return app;
}

async function main(): Promise<void> {
  const logger = new Logger('Demo');
  const config = readDemoConfig(process.env);
  config.warnings.forEach((warning) => logger.warn(warning));
  const app = await createApp(config, await DemoUsers.create());
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  logger.log(`Listening on ${await app.getUrl()} (${config.adapter}, ${process.env.REDIS_URL ? 'Redis' : 'memory'} store)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
