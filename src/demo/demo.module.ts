import { Module, type DynamicModule } from '@nestjs/common';
import { SessionModule } from '../nest/session.module.js';
import type { DemoConfig } from './demo-config.js';
import { DemoController } from './demo.controller.js';
import { demoFreshController } from './demo-fresh.controller.js';
import type { DemoUsers } from './demo-users.js';

@Module({})
export class DemoModule {
  static register(config: DemoConfig, users: DemoUsers): DynamicModule {
    return {
      module: DemoModule,
      imports: [
        SessionModule.forRoot({
          ...config.session,
          validateUser: (username, password) => users.validate(username, password),
          userFields: ['username'],
          routes: true,
        }),
      ],
      controllers: [DemoController, demoFreshController(config.freshLoginWindow)],
    };
  }
}
