import { serializeInnerList, serializeString, type InnerList } from 'structured-headers';
import { InvalidSignedRequestError } from './signed-request-errors.js';
import { splitTarget, type SignedRequestFacts } from './request-facts.js';

/** The derived components we can compute (RFC 9421 §2.2); `@target-uri` and `@scheme` would need to trust proxy headers. */
const DERIVED = new Set(['@method', '@authority', '@path', '@query', '@request-target']);

/** The value of one covered component of `request`; throws when the request does not have it. */
export function componentValue(name: string, request: SignedRequestFacts): string {
  if (name.startsWith('@')) {
    const { path, query } = splitTarget(request.target);
    switch (name) {
      case '@method':
        return request.method;
      case '@authority':
        return headerValue('host', request).toLowerCase();
      case '@path':
        return path;
      case '@query':
        return `?${query}`;
      case '@request-target':
        return request.target;
    }
    throw new InvalidSignedRequestError('unsupported', `component ${name}`);
  }
  return headerValue(name, request);
}

/** RFC 9421 §2.1: a field's values, trimmed, joined with ", ". */
function headerValue(name: string, request: SignedRequestFacts): string {
  const raw = request.headers[name];
  const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((value) => value.trim());
  if (values.length === 0) throw new InvalidSignedRequestError('missing-components', `no ${name} field`);
  return values.join(', ');
}

/** Checks a covered component identifier: a lower-case name without parameters, a field or a derived component we support. */
export function checkComponentName(name: string): void {
  if (name.startsWith('@') ? !DERIVED.has(name) : !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) {
    throw new InvalidSignedRequestError('unsupported', `component ${JSON.stringify(name)}`);
  }
}

/**
 * The signature base of RFC 9421 §2.5: one `"<component>": <value>` line per covered
 * component, in the order they are listed, then `"@signature-params"` with the serialized inner list.
 */
export function signatureBase(components: string[], params: InnerList, request: SignedRequestFacts): string {
  const lines = components.map((name) => `${serializeString(name)}: ${componentValue(name, request)}`);
  lines.push(`"@signature-params": ${serializeInnerList(params)}`);
  return lines.join('\n');
}
