/** Internal DI tokens. Not exported from the package barrel. */
export const RESOLVED_SIGNED_REQUEST_OPTIONS = Symbol('RESOLVED_SIGNED_REQUEST_OPTIONS');
export const SIGNED_REQUEST_NONCES = Symbol('SIGNED_REQUEST_NONCES');
/** Where the guard leaves the verified signature on the request, for `@SignatureKeyId()`. */
export const SIGNED_REQUEST_PROPERTY = 'signedRequest';
