import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SignedRequestOptions } from '../../core/signed-requests/signed-request-options.js';

export interface SignedRequestModuleExtras {
  /** Register the module globally so SignedRequestGuard can be used in every module. Default: false. */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: SIGNED_REQUEST_MODULE_OPTIONS,
  OPTIONS_TYPE: SIGNED_REQUEST_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SIGNED_REQUEST_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SignedRequestOptions>()
  .setClassMethodName('forRoot')
  .setExtras<SignedRequestModuleExtras>({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
