export { contentDigest } from './content-digest.js';
export type { SignedRequestFacts } from './request-facts.js';
export { signRequest, type SignRequestInput } from './sign-request.js';
export { InvalidSignedRequestError, SignedRequestConfigurationError, type SignedRequestRejection } from './signed-request-errors.js';
export { resolveSignedRequestOptions, type ResolvedSignedRequestOptions, type SignedRequestOptions } from './signed-request-options.js';
export { SignedRequestVerifier, type VerifiedSignedRequest } from './signed-request-verifier.js';
