import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { VerifiedSignedRequest } from '../../core/signed-requests/signed-request-verifier.js';
import { SIGNED_REQUEST_PROPERTY } from './signed-request.constants.js';

/** The key id of the request's verified signature, on a route behind SignedRequestGuard (else undefined). */
export const SignatureKeyId = createParamDecorator((_data: unknown, context: ExecutionContext): string | undefined => {
  const request = context.switchToHttp().getRequest<{ [SIGNED_REQUEST_PROPERTY]?: VerifiedSignedRequest }>();
  return request[SIGNED_REQUEST_PROPERTY]?.keyId;
});
