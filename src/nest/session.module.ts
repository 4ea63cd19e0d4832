import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { isClosable, type SessionStore } from '../core/session-store.js';
import { OWNED_SESSION_STORE } from './session.constants.js';
import { ConfigurableModuleClass } from './session.module-definition.js';
import { sessionExports, sessionProviders } from './session.providers.js';

/**
 * `SessionModule.forRoot({ secret, validateUser, store, ... })` or `forRootAsync({ imports,
 * inject, useFactory })`, with the extras `isGlobal` and `routes`.
 */
@Module({ providers: sessionProviders, exports: sessionExports })
export class SessionModule extends ConfigurableModuleClass implements OnApplicationShutdown {
  constructor(@Inject(OWNED_SESSION_STORE) private readonly ownedStore: SessionStore | null) {
    super();
  }

  /** Closes the connection the module opened; a store or client the app passed in stays open. */
  async onApplicationShutdown(): Promise<void> {
    if (this.ownedStore && isClosable(this.ownedStore)) await this.ownedStore.close();
  }
}
