import { isInnerList, parseDictionary, type Dictionary, type InnerList } from 'structured-headers';
import { InvalidSignedRequestError } from './signed-request-errors.js';
import { checkComponentName } from './signature-base.js';

/** One signature as the request states it (RFC 9421 §4.1, §4.2), not yet verified. */
export interface PresentedSignature {
  label: string;
  components: string[];
  /** The inner list as parsed: serialized again for `@signature-params`. */
  params: InnerList;
  signature: Buffer;
  keyId: string;
  nonce: string;
  /** Seconds since the epoch. */
  created: number;
  expires: number | undefined;
}

const MAX_HEADER_LENGTH = 8192;
const MAX_COMPONENTS = 32;
const MAX_NONCE_LENGTH = 256;
const KNOWN_PARAMS = new Set(['created', 'expires', 'nonce', 'alg', 'keyid', 'tag']);

/**
 * Reads the first signature of `Signature-Input` and its value in `Signature`; further labels
 * are ignored. Anything malformed is an InvalidSignedRequestError, never another error.
 */
export function presentedSignature(headers: Record<string, string | string[] | undefined>): PresentedSignature {
  const inputs = dictionary(headers['signature-input'], 'Signature-Input');
  const signatures = dictionary(headers['signature'], 'Signature');
  const first = inputs.entries().next();
  if (first.done) throw new InvalidSignedRequestError('malformed', 'empty Signature-Input');
  const [label, member] = first.value;
  if (!isInnerList(member)) throw new InvalidSignedRequestError('malformed', 'Signature-Input member is not an inner list');
  const value = signatures.get(label)?.[0];
  if (!(value instanceof ArrayBuffer)) throw new InvalidSignedRequestError('malformed', `no byte sequence for ${label} in Signature`);
  const [items, params] = member;
  if (items.length > MAX_COMPONENTS) throw new InvalidSignedRequestError('malformed', 'too many components');
  const components = items.map(([name, itemParams]) => {
    // Component parameters (;sf, ;key, ;req, ;bs, ;name) are not supported: refuse rather than sign something else.
    if (typeof name !== 'string' || itemParams.size > 0) throw new InvalidSignedRequestError('unsupported', 'component with parameters');
    checkComponentName(name);
    return name;
  });
  if (new Set(components).size !== components.length) throw new InvalidSignedRequestError('malformed', 'a component is listed twice');
  return { label, components, params: member, signature: Buffer.from(value), ...signatureParams(params) };
}

function dictionary(raw: string | string[] | undefined, name: string): Dictionary {
  const text = Array.isArray(raw) ? raw.join(', ') : raw;
  if (text === undefined || text === '') throw new InvalidSignedRequestError('missing-components', `no ${name} header`);
  if (text.length > MAX_HEADER_LENGTH) throw new InvalidSignedRequestError('malformed', `${name} too long`);
  try {
    return parseDictionary(text);
  } catch {
    throw new InvalidSignedRequestError('malformed', `${name} is not a structured dictionary`);
  }
}

function signatureParams(params: Map<string, unknown>): Pick<PresentedSignature, 'keyId' | 'nonce' | 'created' | 'expires'> {
  for (const name of params.keys()) {
    if (!KNOWN_PARAMS.has(name)) throw new InvalidSignedRequestError('unsupported', `parameter ${name}`);
  }
  const { created, expires, nonce, alg, keyid, tag } = Object.fromEntries(params);
  if (alg !== undefined && alg !== 'hmac-sha256') throw new InvalidSignedRequestError('unsupported', 'alg');
  if (tag !== undefined && typeof tag !== 'string') throw new InvalidSignedRequestError('malformed', 'tag');
  if (!Number.isSafeInteger(created)) throw new InvalidSignedRequestError('missing-components', 'created');
  if (expires !== undefined && !Number.isSafeInteger(expires)) throw new InvalidSignedRequestError('malformed', 'expires');
  if (typeof keyid !== 'string' || keyid === '') throw new InvalidSignedRequestError('missing-components', 'keyid');
  if (typeof nonce !== 'string' || nonce === '' || nonce.length > MAX_NONCE_LENGTH) {
    throw new InvalidSignedRequestError('missing-components', 'nonce');
  }
  return { keyId: keyid, nonce, created: created as number, expires: expires as number | undefined };
}
