import type { RequestFacts, ResponseSink } from '../core/session-cookie.js';

/**
 * The few request and response operations the module needs, for both Express and Fastify.
 * Express's `req.protocol` honours `trust proxy`, Fastify's honours `trustProxy`.
 */
interface HttpRequestLike {
  headers: Record<string, string | string[] | undefined>;
  method?: string;
  protocol?: string;
  ip?: string;
}

interface ExpressResponseLike {
  append(name: string, value: string): unknown;
  setHeader(name: string, value: string): unknown;
  getHeader(name: string): unknown;
}

interface FastifyReplyLike {
  raw: unknown;
  header(name: string, value: string): unknown;
  getHeader(name: string): unknown;
}

export function requestFacts(request: HttpRequestLike): RequestFacts {
  const cookie = request.headers.cookie;
  const userAgent = request.headers['user-agent'];
  const authorization = request.headers.authorization;
  const https = request.protocol === 'https';
  return {
    cookieHeader: Array.isArray(cookie) ? cookie.join('; ') : cookie,
    authorization: typeof authorization === 'string' ? authorization : undefined,
    https,
    userAgent: typeof userAgent === 'string' ? userAgent : undefined,
    ip: request.ip,
    fetch: {
      method: request.method ?? 'GET',
      secFetchSite: single(request.headers['sec-fetch-site']),
      origin: single(request.headers.origin),
      host: single(request.headers.host),
      https,
    },
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const CREDENTIAL_HEADERS = ['Cookie', 'Authorization'];
const CREDENTIAL_VARY = CREDENTIAL_HEADERS.join(', ');

/**
 * For answers that depend on the request's credential (OWASP session management, caching): no
 * cache may keep or reuse them, a shared cache must tell users apart, and a conditional request
 * must not turn them into a 304. The validators are dropped from the request, so Express's
 * automatic ETag never matches and the answer is always the current one.
 */
export function preventCredentialCaching(request: HttpRequestLike, response: unknown): void {
  setResponseHeader(response, 'Cache-Control', 'no-store');
  const current = getResponseHeader(response, 'Vary');
  // The usual case, on every guarded request: no Vary yet, so nothing to merge.
  if (current === '') setResponseHeader(response, 'Vary', CREDENTIAL_VARY);
  else {
    const listed = new Set(current.split(',').map((field) => field.trim().toLowerCase()));
    const missing = CREDENTIAL_HEADERS.filter((field) => !listed.has(field.toLowerCase()));
    if (missing.length > 0 && !listed.has('*')) setResponseHeader(response, 'Vary', [current, ...missing].join(', '));
  }
  const { headers } = request;
  if (headers['if-none-match'] !== undefined) delete headers['if-none-match'];
  if (headers['if-modified-since'] !== undefined) delete headers['if-modified-since'];
}

function getResponseHeader(response: unknown, name: string): string {
  const value = isFastifyReply(response) ? response.getHeader(name) : (response as ExpressResponseLike).getHeader(name);
  return Array.isArray(value) ? value.join(', ') : typeof value === 'string' ? value : '';
}

export function setResponseHeader(response: unknown, name: string, value: string): void {
  if (isFastifyReply(response)) response.header(name, value);
  else (response as ExpressResponseLike).setHeader(name, value);
}

export function responseSink(response: unknown): ResponseSink {
  // Fastify's reply.header appends to set-cookie; Express needs append() to keep earlier cookies.
  const setCookie = isFastifyReply(response)
    ? (serialized: string) => void response.header('set-cookie', serialized)
    : (serialized: string) => void (response as ExpressResponseLike).append('Set-Cookie', serialized);
  return { setCookie, preventCaching: () => setResponseHeader(response, 'Cache-Control', 'no-store') };
}

function isFastifyReply(response: unknown): response is FastifyReplyLike {
  return typeof response === 'object' && response !== null && 'raw' in response && typeof (response as FastifyReplyLike).header === 'function';
}
