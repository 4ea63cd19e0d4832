import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createDemoApp } from './demo-app.js';
import { readDemoConfig } from './demo-config.js';
import { DemoUsers } from './demo-users.js';

async function main(): Promise<void> {
  const logger = new Logger('Demo');
  const config = readDemoConfig(process.env);
  config.warnings.forEach((warning) => logger.warn(warning));
  const app = await createDemoApp(config, await DemoUsers.create());
  // SIGINT and SIGTERM close the app: connections (forced), then the stores the module built.
  app.enableShutdownHooks(['SIGINT', 'SIGTERM']);
  await app.listen(config.port, config.host);
  logger.log(`Listening on ${await app.getUrl()} (${config.adapter}, ${'type' in config.session.store! ? config.session.store.type : 'custom'} store)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
