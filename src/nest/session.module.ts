import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { isClosable, type SessionStore } from '../core/session-store.js';
import { OWNED_SESSION_STORE } from './session.constants.js';
import { ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, OPTIONS_TYPE } from './session.module-definition.js';
import { sessionExports, sessionProviders } from './session.providers.js';

/** Closes the connection the module opened; a store or client the app passed in stays open. */
@Injectable()
class OwnedStoreCloser implements OnApplicationShutdown {
  constructor(@Inject(OWNED_SESSION_STORE) private readonly ownedStore: SessionStore | null) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.ownedStore && isClosable(this.ownedStore)) await this.ownedStore.close();
  }
}

/**
 * The providers belong to the module that `forRoot()` returns, not to the class: a feature module
 * that imports the bare `SessionModule` gets an empty module and uses the one configured instance
 * through the global exports, instead of failing on missing options or building a second store.
 */
function withSessionProviders(definition: DynamicModule): DynamicModule {
  return {
    ...definition,
    providers: [...(definition.providers ?? []), ...sessionProviders, OwnedStoreCloser],
    exports: [...(definition.exports ?? []), ...sessionExports],
  };
}

/**
 * `SessionModule.forRoot({ secret, validateUser, store, ... })` or `forRootAsync({ imports,
 * inject, useFactory })` (or `useClass` / `useExisting` with a `SessionOptionsFactory`), once,
 * in the root module. Its guards, decorators and `AuthService` then work in every module.
 */
@Module({})
export class SessionModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return withSessionProviders(super.forRoot(options));
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withSessionProviders(super.forRootAsync(options));
  }
}
