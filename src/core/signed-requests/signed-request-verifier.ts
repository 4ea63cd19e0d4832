import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NonceStore } from '../nonce-store.js';
import { contentDigestMatches } from './content-digest.js';
import { splitTarget, type SignedRequestFacts } from './request-facts.js';
import { signatureBase } from './signature-base.js';
import { presentedSignature, type PresentedSignature } from './signature-input.js';
import { InvalidSignedRequestError } from './signed-request-errors.js';
import type { ResolvedSignedRequestOptions } from './signed-request-options.js';

export interface VerifiedSignedRequest {
  keyId: string;
  label: string;
  /** `created`, in seconds since the epoch. */
  created: number;
}

const NO_BODY = new Uint8Array(0);

/**
 * Verifies RFC 9421 HTTP Message Signatures with `hmac-sha256` and the RFC 9530 `sha-256`
 * Content-Digest, then remembers the nonce: a request is accepted once. The order keeps the
 * cheap, unauthenticated checks first; the body is hashed and the store asked only for a request
 * whose signature is good.
 */
export class SignedRequestVerifier {
  constructor(
    private readonly options: ResolvedSignedRequestOptions,
    private readonly nonces: NonceStore,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(request: SignedRequestFacts): Promise<VerifiedSignedRequest> {
    const presented = presentedSignature(request.headers);
    const key = this.options.keys.get(presented.keyId);
    if (key === undefined) throw new InvalidSignedRequestError('unknown-key');
    const now = this.now();
    const { windowMs } = this.options;
    if (Math.abs(now - presented.created * 1000) > windowMs) throw new InvalidSignedRequestError('stale', 'created outside the window');
    if (presented.expires !== undefined && presented.expires * 1000 < now) throw new InvalidSignedRequestError('stale', 'expired');
    requireCoverage(presented, request);
    const base = signatureBase(presented.components, presented.params, request);
    // Node hands header values over as latin1 strings; encoding back that way gives the bytes received.
    const expected = createHmac('sha256', key).update(Buffer.from(base, 'latin1')).digest();
    if (presented.signature.length !== expected.length || !timingSafeEqual(presented.signature, expected)) {
      throw new InvalidSignedRequestError('bad-signature');
    }
    if (presented.components.includes('content-digest') && !contentDigestMatches(String(request.headers['content-digest']), request.body ?? NO_BODY)) {
      throw new InvalidSignedRequestError('bad-digest');
    }
    // Remembered until `created` leaves the window: a replay is refused for as long as it could be accepted.
    const ttlMs = Math.max(1000, presented.created * 1000 + windowMs - now);
    if (!(await this.nonces.rememberNonce(presented.keyId, presented.nonce, ttlMs))) throw new InvalidSignedRequestError('replayed');
    return { keyId: presented.keyId, label: presented.label, created: presented.created };
  }
}

/** At least `@method`, `@path`, `@query` when there is a query, and `content-digest` when there is a body. */
function requireCoverage(presented: PresentedSignature, request: SignedRequestFacts): void {
  const covered = new Set(presented.components);
  const required = ['@method', '@path'];
  if (splitTarget(request.target).query !== '') required.push('@query');
  if (hasBody(request)) {
    if (request.body === undefined) throw new InvalidSignedRequestError('unverifiable-body', 'the raw body was not kept');
    required.push('content-digest');
  }
  const missing = required.filter((name) => !covered.has(name));
  if (missing.length > 0) throw new InvalidSignedRequestError('missing-components', missing.join(' '));
}

function hasBody(request: SignedRequestFacts): boolean {
  if (request.body !== undefined) return request.body.length > 0;
  const length = request.headers['content-length'];
  return (typeof length === 'string' && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}
