import { Module, type DynamicModule } from '@nestjs/common';
import { SessionModule } from '../nest/session.module.js';
import type { DemoConfig } from './demo-config.js';
import { demoSignedRequests, readSignedRequestKeys } from './demo-signed.js';
import { DemoController } from './demo.controller.js';
import { DemoCounterController } from './demo-counter.controller.js';
import { demoFreshController } from './demo-fresh.controller.js';
import type { DemoUsers } from './demo-users.js';

@Module({})
export class DemoModule {
  static register(config: DemoConfig, users: DemoUsers, signedKeys = readSignedRequestKeys(process.env)): DynamicModule {
    const signed = demoSignedRequests(signedKeys);
    return {
      module: DemoModule,
      imports: [
        SessionModule.forRoot({
          ...config.session,
          validateUser: (username, password) => users.validate(username, password),
          userFields: ['username'],
          routes: true,
        }),
        ...signed.imports,
      ],
      controllers: [DemoController, DemoCounterController, demoFreshController(config.freshLoginWindow), ...signed.controllers],
    };
  }
}
