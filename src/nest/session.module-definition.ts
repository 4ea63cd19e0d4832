import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SessionModuleOptions } from '../core/session-options.js';
import { mountAuthController } from './auth.controller.js';
import { JwksController } from './jwks.controller.js';
import { MOUNTED_ROUTES_PATH } from './session.constants.js';

/** For `forRootAsync({ useClass })` and `forRootAsync({ useExisting })`. */
export interface SessionOptionsFactory {
  createSessionOptions(): SessionModuleOptions | Promise<SessionModuleOptions>;
}

export interface SessionModuleExtras {
  /**
   * Accepted for compatibility and for symmetry with other Nest modules; the module is always
   * global (see `global` below), so this changes nothing. Default: false.
   */
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
  .setFactoryMethodName('createSessionOptions')
  .setExtras<SessionModuleExtras>({ isGlobal: false, routes: false }, (definition, extras) => {
    const prefix = extras.routes ? ((extras.routes === true ? undefined : extras.routes.prefix) ?? 'auth') : null;
    return {
    ...definition,
    // Always global, as ThrottlerModule is: guards are instantiated in the module whose controller
    // names them, so AuthenticatedGuard in a feature module needs the session providers there.
    // One forRoot() in the root module is the rule; importing it twice would make two stores.
    global: true,
    controllers: prefix === null ? [] : [mountAuthController(prefix), JwksController],
    // Known before async options resolve, so the refresh cookie's default path can follow the routes.
    providers: [...(definition.providers ?? []), { provide: MOUNTED_ROUTES_PATH, useValue: prefix === null ? null : routesPath(prefix) }],
    };
  })
  .build();

/** `'account'`, `'/account/'` → `'/account'`: the path a browser sees, without the app's global prefix. */
function routesPath(prefix: string): string {
  return `/${prefix.replace(/^\/+|\/+$/g, '')}`;
}
