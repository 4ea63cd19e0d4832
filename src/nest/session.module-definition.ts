import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SessionModuleOptions } from '../core/session-options.js';
import { mountAuthController } from './auth.controller.js';
import { JwksController } from './jwks.controller.js';

export interface SessionModuleExtras {
  /** Register the module globally so feature modules need not import it. Default: false. */
  isGlobal?: boolean;
  /**
   * Mount the built-in AuthController: `true` under `/auth`, or `{ prefix }`, and
   * `GET /.well-known/jwks.json`. Default: off.
   * An extra rather than an option because routes must be known before async options resolve.
   */
  routes?: boolean | { prefix?: string };
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: SESSION_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SessionModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras<SessionModuleExtras>({ isGlobal: false, routes: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    controllers: extras.routes
      ? [mountAuthController((extras.routes === true ? undefined : extras.routes.prefix) ?? 'auth'), JwksController]
      : [],
  }))
  .build();
