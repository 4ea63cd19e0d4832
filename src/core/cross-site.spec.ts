import { isCrossSiteRequest, type FetchFacts } from './cross-site.js';

const NONE = new Set<string>();
const request = (overrides: Partial<FetchFacts>): FetchFacts => ({
  method: 'POST',
  secFetchSite: undefined,
  origin: undefined,
  host: 'app.example.com',
  https: true,
  ...overrides,
});

describe('isCrossSiteRequest', () => {
  it.each(['GET', 'HEAD', 'OPTIONS', 'get'])('never refuses the safe method %s', (method) => {
    expect(isCrossSiteRequest(request({ method, secFetchSite: 'cross-site', origin: 'https://evil.example' }), NONE)).toBe(false);
  });

  it.each([
    ['same-origin', false],
    ['none', false],
    ['same-site', true],
    ['cross-site', true],
    ['CROSS-SITE', true],
  ])('with Sec-Fetch-Site %s refuses: %s', (secFetchSite, refused) => {
    expect(isCrossSiteRequest(request({ secFetchSite }), NONE)).toBe(refused);
  });

  it('trusts Fetch Metadata over an Origin that matches the host', () => {
    expect(isCrossSiteRequest(request({ secFetchSite: 'cross-site', origin: 'https://app.example.com' }), NONE)).toBe(true);
  });

  it('without Fetch Metadata compares Origin with Host', () => {
    expect(isCrossSiteRequest(request({ origin: 'https://app.example.com' }), NONE)).toBe(false);
    expect(isCrossSiteRequest(request({ origin: 'https://evil.example' }), NONE)).toBe(true);
    expect(isCrossSiteRequest(request({ origin: 'null' }), NONE)).toBe(true);
    expect(isCrossSiteRequest(request({ origin: 'not a url' }), NONE)).toBe(true);
  });

  it('without Fetch Metadata compares the scheme and the port too, not only the host name', () => {
    expect(isCrossSiteRequest(request({ origin: 'http://app.example.com' }), NONE)).toBe(true);
    expect(isCrossSiteRequest(request({ origin: 'https://app.example.com', https: false }), NONE)).toBe(true);
    expect(isCrossSiteRequest(request({ origin: 'http://app.example.com', https: false }), NONE)).toBe(false);
    expect(isCrossSiteRequest(request({ origin: 'https://app.example.com:8443' }), NONE)).toBe(true);
    expect(isCrossSiteRequest(request({ origin: 'https://app.example.com:8443', host: 'app.example.com:8443' }), NONE)).toBe(false);
    // The default port may be spelled out on either side.
    expect(isCrossSiteRequest(request({ origin: 'https://app.example.com', host: 'APP.example.com:443' }), NONE)).toBe(false);
  });

  it('refuses an Origin when the request has no usable Host to compare it with', () => {
    expect(isCrossSiteRequest(request({ origin: 'https://app.example.com', host: undefined }), NONE)).toBe(true);
  });

  it('lets through a request with neither header: it is not from a browser', () => {
    expect(isCrossSiteRequest(request({}), NONE)).toBe(false);
  });

  it('lets allowed origins through whatever Fetch Metadata says', () => {
    const allowed = new Set(['https://spa.example.com']);
    expect(isCrossSiteRequest(request({ secFetchSite: 'same-site', origin: 'https://spa.example.com' }), allowed)).toBe(false);
    expect(isCrossSiteRequest(request({ secFetchSite: 'same-site', origin: 'https://other.example.com' }), allowed)).toBe(true);
  });
});
