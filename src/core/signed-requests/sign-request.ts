import { createHmac, randomBytes } from 'node:crypto';
import { serializeDictionary, type InnerList, type Item } from 'structured-headers';
import { contentDigest } from './content-digest.js';
import { splitTarget } from './request-facts.js';
import { signatureBase } from './signature-base.js';

export interface SignRequestInput {
  keyId: string;
  secret: string;
  method: string;
  /** Path and query as they will be sent, e.g. `/orders?id=7`. */
  target: string;
  /** The exact bytes that will be sent (a string is sent as UTF-8). */
  body?: Uint8Array | string;
  /** Further header fields to cover, by lower-case name, with the values that will be sent. */
  headers?: Record<string, string>;
  /** Seconds since the epoch. Default: now. */
  created?: number;
  /** Default: 128 random bits, base64url. */
  nonce?: string;
  /** Default: `sig1`. */
  label?: string;
}

/**
 * Signs a request for SignedRequestGuard: covers `@method`, `@path`, `@query` when there is a
 * query, `content-digest` when there is a body, and the given headers. Returns the headers to
 * add: `Signature-Input`, `Signature` and, with a body, `Content-Digest`.
 */
export function signRequest(input: SignRequestInput): Record<string, string> {
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  const headers: Record<string, string> = { ...input.headers };
  const components = ['@method', '@path'];
  if (splitTarget(input.target).query !== '') components.push('@query');
  if (body !== undefined && body.length > 0) {
    headers['content-digest'] = contentDigest(body);
    components.push('content-digest');
  }
  components.push(...Object.keys(input.headers ?? {}));
  const params: InnerList = [
    components.map((name): Item => [name, new Map()]),
    new Map<string, string | number>([
      ['created', input.created ?? Math.floor(Date.now() / 1000)],
      ['keyid', input.keyId],
      ['nonce', input.nonce ?? randomBytes(16).toString('base64url')],
      ['alg', 'hmac-sha256'],
    ]),
  ];
  const label = input.label ?? 'sig1';
  const base = signatureBase(components, params, { method: input.method, target: input.target, headers, body });
  const signature = createHmac('sha256', Buffer.from(input.secret, 'utf8')).update(Buffer.from(base, 'latin1')).digest();
  const added: Record<string, string> = {
    'signature-input': serializeDictionary(new Map([[label, params]])),
    signature: serializeDictionary({ [label]: signature }),
  };
  if (headers['content-digest'] !== undefined) added['content-digest'] = headers['content-digest'];
  return added;
}
