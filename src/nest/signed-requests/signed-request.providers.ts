import type { Provider } from '@nestjs/common';
import { SignedRequestVerifier } from '../../core/signed-requests/signed-request-verifier.js';
import {
  resolveSignedRequestOptions,
  type ResolvedSignedRequestOptions,
  type SignedRequestOptions,
} from '../../core/signed-requests/signed-request-options.js';
import { SignedRequestGuard } from '../guards/signed-request.guard.js';
import { RequestNonceStore } from './request-nonce-store.js';
import { SIGNED_REQUEST_MODULE_OPTIONS } from './signed-request.module-definition.js';
import { RESOLVED_SIGNED_REQUEST_OPTIONS } from './signed-request.constants.js';

export const signedRequestProviders: Provider[] = [
  {
    provide: RESOLVED_SIGNED_REQUEST_OPTIONS,
    useFactory: (options: SignedRequestOptions) => resolveSignedRequestOptions(options),
    inject: [SIGNED_REQUEST_MODULE_OPTIONS],
  },
  RequestNonceStore,
  {
    provide: SignedRequestVerifier,
    useFactory: (options: ResolvedSignedRequestOptions, nonces: RequestNonceStore) => new SignedRequestVerifier(options, nonces),
    inject: [RESOLVED_SIGNED_REQUEST_OPTIONS, RequestNonceStore],
  },
  SignedRequestGuard,
];

export const signedRequestExports = [SignedRequestVerifier, SignedRequestGuard];
