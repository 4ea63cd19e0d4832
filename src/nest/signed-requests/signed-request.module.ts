import { Module } from '@nestjs/common';
import { ConfigurableModuleClass } from './signed-request.module-definition.js';
import { signedRequestExports, signedRequestProviders } from './signed-request.providers.js';

/**
 * `SignedRequestModule.forRoot({ keys: { kid1: '…' }, windowSeconds })` or `forRootAsync(...)`,
 * with the extra `isGlobal`: provides SignedRequestGuard for routes called by other services.
 */
@Module({ providers: signedRequestProviders, exports: signedRequestExports })
export class SignedRequestModule extends ConfigurableModuleClass {}
