import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  HttpException,
  HttpStatus,
  PayloadTooLargeException,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import {
  CrossSiteRequestError,
  InvalidSessionDataError,
  InvalidSessionError,
  SessionDataTooLargeError,
  SessionLimitReachedError,
  SessionLockLostError,
  SessionLockTimeoutError,
  SessionStoreUnavailableError,
} from '../core/errors.js';
import { LoginThrottledError } from '../core/login-throttle.js';
import { setResponseHeader } from './http-adapter.js';
import { STORE_RETRY_AFTER_SECONDS } from './session.constants.js';

/**
 * Translates the core's errors into HTTP answers: an unusable credential is 401 with a generic
 * body (the reason stays server-side), an unreachable store is 503 with Retry-After, a
 * throttled login 429 with Retry-After, a cross-site request through a cookie 403, session data
 * past its caps 413, other bad session data 400, a login refused at maxSessionsPerUser 409, a
 * session lock not taken in time or lost 409 (a lock attempt on a store that is down is 503, as
 * above). Anything else passes through untouched.
 */
export function toHttpError(error: unknown, response: unknown): unknown {
  if (error instanceof SessionStoreUnavailableError) {
    setResponseHeader(response, 'Retry-After', String(STORE_RETRY_AFTER_SECONDS));
    return new ServiceUnavailableException('Sessions are temporarily unavailable; retry shortly.');
  }
  if (error instanceof LoginThrottledError) {
    setResponseHeader(response, 'Retry-After', String(error.retryAfterSeconds));
    return new HttpException('Too many login attempts; retry later.', HttpStatus.TOO_MANY_REQUESTS);
  }
  if (error instanceof InvalidSessionError) return new UnauthorizedException();
  if (error instanceof CrossSiteRequestError) return new ForbiddenException(error.message);
  if (error instanceof SessionLimitReachedError) return new ConflictException(error.message);
  if (error instanceof SessionLockTimeoutError || error instanceof SessionLockLostError) return new ConflictException(error.message);
  if (error instanceof SessionDataTooLargeError) return new PayloadTooLargeException(error.message);
  if (error instanceof InvalidSessionDataError) return new BadRequestException(error.message);
  return error;
}
