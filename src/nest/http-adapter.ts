import { isSafeMethod, type FetchFacts } from '../core/cross-site.js';
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

/** The request's facts for the session layer, Express and Fastify requests alike. */
export function requestFacts(request: HttpRequestLike): RequestFacts {
  return new HttpRequestFacts(request);
}

/**
 * Each fact is read from the request when first asked for: a guarded GET that only shows its
 * cookie never pays for Express's `req.ip` (proxy-addr over X-Forwarded-For) or the cross-site
 * facts. Other methods (a login, a change) take the address at once, while the connection is
 * surely open: read after an await, a client that went away would leave it undefined. The
 * request is held in a private field, so inspecting a Session does not print it.
 */
class HttpRequestFacts implements RequestFacts {
  readonly cookieHeader: string | undefined;
  readonly authorization: string | undefined;
  readonly #request: HttpRequestLike;
  #https: boolean | undefined;
  #fetch: FetchFacts | undefined;
  #ip: { value: string | undefined } | undefined;

  constructor(request: HttpRequestLike) {
    this.#request = request;
    const { cookie, authorization } = request.headers;
    this.cookieHeader = Array.isArray(cookie) ? cookie.join('; ') : cookie;
    this.authorization = typeof authorization === 'string' ? authorization : undefined;
    if (!isSafeMethod(request.method ?? 'GET')) this.#ip = { value: request.ip };
  }

  get https(): boolean {
    return (this.#https ??= this.#request.protocol === 'https');
  }

  get userAgent(): string | undefined {
    const userAgent = this.#request.headers['user-agent'];
    return typeof userAgent === 'string' ? userAgent : undefined;
  }

  get ip(): string | undefined {
    return (this.#ip ??= { value: this.#request.ip }).value;
  }

  get fetch(): FetchFacts {
    return (this.#fetch ??= new HttpFetchFacts(this.#request.headers, this.#request.method ?? 'GET', this));
  }
}

/**
 * The cross-site facts, read by the CSRF check on every cookie request. A class with its getter
 * on the prototype, not an object literal with a getter: V8 gives each evaluated literal getter
 * an accessor of its own, and what that getter's closure reaches (here the request, the session,
 * the response) survived every young-generation collection until a full one. With `--trace-gc`
 * under load (Node 24, Express, memory store): 10 ms scavenges that promoted every guarded
 * request's objects and a full collection a second, against 0.6 ms and none with the class.
 * `https` stays a getter because only an unsafe request that names its Origin needs it
 * (Express's req.protocol costs microseconds).
 */
class HttpFetchFacts implements FetchFacts {
  readonly secFetchSite: string | undefined;
  readonly origin: string | undefined;
  readonly host: string | undefined;
  readonly #facts: { readonly https: boolean };

  constructor(
    headers: HttpRequestLike['headers'],
    readonly method: string,
    facts: { readonly https: boolean },
  ) {
    this.#facts = facts;
    this.secFetchSite = single(headers['sec-fetch-site']);
    this.origin = single(headers.origin);
    this.host = single(headers.host);
  }

  get https(): boolean {
    return this.#facts.https;
  }
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
  const headers = headersOf(response);
  headers.set(response, 'Cache-Control', 'no-store');
  const current = headers.get(response, 'Vary');
  // The usual case, on every guarded request: no Vary yet, so nothing to merge.
  if (current === '') headers.set(response, 'Vary', CREDENTIAL_VARY);
  else {
    const listed = new Set(current.split(',').map((field) => field.trim().toLowerCase()));
    const missing = CREDENTIAL_HEADERS.filter((field) => !listed.has(field.toLowerCase()));
    if (missing.length > 0 && !listed.has('*')) headers.set(response, 'Vary', [current, ...missing].join(', '));
  }
  const { headers: requestHeaders } = request;
  if (requestHeaders['if-none-match'] !== undefined) delete requestHeaders['if-none-match'];
  if (requestHeaders['if-modified-since'] !== undefined) delete requestHeaders['if-modified-since'];
}

export function setResponseHeader(response: unknown, name: string, value: string): void {
  headersOf(response).set(response, name, value);
}

export function responseSink(response: unknown): ResponseSink {
  const headers = headersOf(response);
  return {
    setCookie: (serialized) => headers.appendCookie(response, serialized),
    preventCaching: () => headers.set(response, 'Cache-Control', 'no-store'),
  };
}

/** How to read and write a response's headers, for one kind of response. */
interface ResponseHeaders<Response> {
  get(response: Response, name: string): string;
  set(response: Response, name: string, value: string): void;
  /** Adds a Set-Cookie line, keeping those already set. */
  appendCookie(response: Response, serialized: string): void;
}

const FASTIFY_HEADERS: ResponseHeaders<FastifyReplyLike> = {
  get: (reply, name) => headerText(reply.getHeader(name)),
  set: (reply, name, value) => void reply.header(name, value),
  // reply.header appends to set-cookie.
  appendCookie: (reply, serialized) => void reply.header('set-cookie', serialized),
};

const EXPRESS_HEADERS: ResponseHeaders<ExpressResponseLike> = {
  get: (response, name) => headerText(response.getHeader(name)),
  set: (response, name, value) => void response.setHeader(name, value),
  // append() keeps the cookies set before.
  appendCookie: (response, serialized) => void response.append('Set-Cookie', serialized),
};

/**
 * Tells a Fastify reply from an Express response once per call rather than once per header: the
 * check looks up `raw`, which an Express response lacks, so it walks the whole prototype chain.
 */
function headersOf(response: unknown): ResponseHeaders<unknown> {
  return (isFastifyReply(response) ? FASTIFY_HEADERS : EXPRESS_HEADERS) as ResponseHeaders<unknown>;
}

function headerText(value: unknown): string {
  return Array.isArray(value) ? value.join(', ') : typeof value === 'string' ? value : '';
}

function isFastifyReply(response: unknown): response is FastifyReplyLike {
  return typeof response === 'object' && response !== null && 'raw' in response && typeof (response as FastifyReplyLike).header === 'function';
}
