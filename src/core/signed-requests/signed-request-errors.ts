import { SessionAuthError } from '../errors.js';

/** A SignedRequestModule option is missing or wrong. Thrown at boot, never on a request. */
export class SignedRequestConfigurationError extends SessionAuthError {
  constructor(
    readonly option: string,
    problem: string,
    fix: string,
  ) {
    super(`SignedRequestModule option \`${option}\` ${problem}. ${fix}`);
  }
}

export type SignedRequestRejection =
  | 'malformed'
  | 'missing-components'
  | 'unsupported'
  | 'unknown-key'
  | 'stale'
  | 'bad-signature'
  | 'bad-digest'
  | 'unverifiable-body'
  | 'replayed';

/** The request's signature cannot be accepted. Always answered with 401 and a generic body; the reason is for logs and tests. */
export class InvalidSignedRequestError extends SessionAuthError {
  constructor(
    readonly reason: SignedRequestRejection,
    detail?: string,
  ) {
    super(`Signed request rejected: ${reason}${detail ? ` (${detail})` : ''}.`);
  }
}
