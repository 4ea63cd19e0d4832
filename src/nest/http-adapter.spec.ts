import { refusesCrossSite } from '../core/cross-site.js';
import { requestFacts } from './http-adapter.js';

/** A request as Express or Fastify hands it over, counting the reads of its `protocol` (a getter on Express that costs microseconds). */
function countingRequest(method: string, headers: Record<string, string>, protocol: 'http' | 'https') {
  let protocolReads = 0;
  const request = {
    headers,
    method,
    get protocol() {
      protocolReads++;
      return protocol;
    },
  };
  return { request, protocolReads: () => protocolReads };
}

const CSRF = { allowedOrigins: new Set<string>() };

describe('requestFacts', () => {
  it('reads the protocol once, when first asked whether the request came over HTTPS', () => {
    const { request, protocolReads } = countingRequest('GET', { cookie: 'sid=x' }, 'https');
    const facts = requestFacts(request);
    expect(facts.cookieHeader).toBe('sid=x');
    expect(protocolReads()).toBe(0);
    expect(facts.https).toBe(true);
    expect(facts.https).toBe(true);
    expect(facts.fetch?.https).toBe(true);
    expect(protocolReads()).toBe(1);
  });

  it('gives the cross-site facts without reading the protocol: a GET from another site passes without it', () => {
    const { request, protocolReads } = countingRequest('GET', { origin: 'https://evil.example', host: 'app.example', 'sec-fetch-site': 'cross-site' }, 'https');
    const facts = requestFacts(request);
    expect(facts.fetch).toMatchObject({ method: 'GET', origin: 'https://evil.example', host: 'app.example', secFetchSite: 'cross-site' });
    expect(refusesCrossSite(CSRF, facts.fetch)).toBe(false);
    expect(protocolReads()).toBe(0);
  });

  it('reads the protocol for an unsafe request whose Origin it must compare, and tells the schemes apart', () => {
    const overHttps = countingRequest('POST', { origin: 'https://app.example', host: 'app.example' }, 'https');
    expect(refusesCrossSite(CSRF, requestFacts(overHttps.request).fetch)).toBe(false);
    expect(overHttps.protocolReads()).toBe(1);
    // The same Origin over plain HTTP is another origin.
    const overHttp = countingRequest('POST', { origin: 'https://app.example', host: 'app.example' }, 'http');
    expect(refusesCrossSite(CSRF, requestFacts(overHttp.request).fetch)).toBe(true);
  });

  it("keeps the cross-site facts' https getter on a shared prototype, never one per request", () => {
    // An object literal's getter is an accessor of its own per request, and what its closure
    // reaches survived young-generation collections: every guarded request's objects were promoted.
    const first = requestFacts(countingRequest('GET', { cookie: 'sid=x' }, 'https').request).fetch;
    const second = requestFacts(countingRequest('GET', { cookie: 'sid=y' }, 'http').request).fetch;
    expect(Object.getOwnPropertyDescriptor(first, 'https')).toBeUndefined();
    expect(Object.getPrototypeOf(first)).toBe(Object.getPrototypeOf(second));
    expect([first?.https, second?.https]).toEqual([true, false]);
  });
});
