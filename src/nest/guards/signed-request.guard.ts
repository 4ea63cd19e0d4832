import { Inject, Injectable, Logger, Optional, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { AuthEventListener } from '../../core/auth-events.js';
import type { SignedRequestFacts } from '../../core/signed-requests/request-facts.js';
import { InvalidSignedRequestError } from '../../core/signed-requests/signed-request-errors.js';
import { SignedRequestVerifier } from '../../core/signed-requests/signed-request-verifier.js';
import { preventCredentialCaching, requestFacts, setResponseHeader } from '../http-adapter.js';
import { AUTH_EVENTS } from '../session.constants.js';
import { toHttpError } from '../http-errors.js';
import { SIGNED_REQUEST_PROPERTY } from '../signed-requests/signed-request.constants.js';
import { inRequestTrace } from '../tracing/request-trace.js';

/** RFC 9421 §5.1: tells a client which signature would be accepted. */
const ACCEPT_SIGNATURE = 'sig1=("@method" "@path" "@query" "content-digest");created;nonce;keyid;alg="hmac-sha256"';

interface RawRequest {
  method?: string;
  originalUrl?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody?: unknown;
  [SIGNED_REQUEST_PROPERTY]?: unknown;
}

const logger = new Logger('SignedRequestGuard');
let warnedAboutRawBody = false;

/**
 * For routes called by other services: the request must carry an RFC 9421 signature
 * (`hmac-sha256`, a key of SignedRequestModule) over at least its method, path, query and, with a
 * body, its `Content-Digest`, created inside the window and with a nonce not seen before.
 * Anything else is 401 with a generic body; the nonce store unreachable is 503.
 * The body is checked as received: create the app with `{ rawBody: true }`.
 */
@Injectable()
export class SignedRequestGuard implements CanActivate {
  constructor(
    @Inject(SignedRequestVerifier) private readonly verifier: SignedRequestVerifier,
    /** The SessionModule's event listener, when the app has one: rejections are security events. */
    @Optional() @Inject(AUTH_EVENTS) private readonly emit: AuthEventListener | null = null,
  ) {}

  canActivate(context: ExecutionContext): Promise<boolean> {
    return inRequestTrace(context.switchToHttp().getRequest(), () => this.verify(context));
  }

  private async verify(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<RawRequest>();
    // Whatever the answer, it depends on the signature: no cache may keep it.
    preventCredentialCaching(request, http.getResponse());
    try {
      request[SIGNED_REQUEST_PROPERTY] = await this.verifier.verify(this.factsOf(request));
      return true;
    } catch (error) {
      if (!(error instanceof InvalidSignedRequestError)) throw toHttpError(error, http.getResponse());
      if (error.reason === 'unverifiable-body' && !warnedAboutRawBody) {
        warnedAboutRawBody = true;
        logger.error('A signed request has a body but no raw body was kept: create the app with NestFactory.create(AppModule, { rawBody: true }).');
      }
      this.emit?.({ type: 'signed-request.rejected', reason: error.reason, ip: requestFacts(request as never).ip ?? null });
      setResponseHeader(http.getResponse(), 'Accept-Signature', ACCEPT_SIGNATURE);
      throw new UnauthorizedException('Request signature rejected.');
    }
  }

  /** Express and Fastify both give `originalUrl` (the target as received) and, with `rawBody: true`, `rawBody`. */
  protected factsOf(request: RawRequest): SignedRequestFacts {
    return {
      method: request.method ?? 'GET',
      target: request.originalUrl ?? request.url ?? '/',
      headers: request.headers,
      body: request.rawBody instanceof Uint8Array ? request.rawBody : undefined,
    };
  }
}
