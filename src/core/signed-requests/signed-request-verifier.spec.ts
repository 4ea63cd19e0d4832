import { createHmac } from 'node:crypto';
import { parseDictionary, type InnerList } from 'structured-headers';
import { MemoryNonceStore } from '../../stores/memory-nonce-store.js';
import { InvalidSignedRequestError, resolveSignedRequestOptions, signRequest, SignedRequestConfigurationError, SignedRequestVerifier, type SignedRequestFacts } from './index.js';
import { signatureBase } from './signature-base.js';

const SECRET = 'kid1-secret-that-is-long-enough-0123456789';
const NOW = 1_800_000_000_000;

function verifier(): SignedRequestVerifier {
  return new SignedRequestVerifier(resolveSignedRequestOptions({ keys: { kid1: SECRET } }), new MemoryNonceStore(), () => NOW);
}

function signed(overrides: Partial<Parameters<typeof signRequest>[0]> = {}): SignedRequestFacts {
  const input = { keyId: 'kid1', secret: SECRET, method: 'POST', target: '/orders?id=7', body: '{"qty":2}', created: NOW / 1000, ...overrides };
  const headers = signRequest(input);
  const body = input.body === undefined ? undefined : Buffer.from(input.body);
  return { method: input.method, target: input.target, headers: { ...headers, 'content-length': String(body?.length ?? 0) }, body };
}

async function rejection(request: SignedRequestFacts, check = verifier()): Promise<string> {
  const error = await check.verify(request).then(() => null, (caught: unknown) => caught);
  if (!(error instanceof InvalidSignedRequestError)) throw new Error(`expected a rejection, got ${String(error)}`);
  return error.reason;
}

describe('signature base (RFC 9421 §2.5)', () => {
  it('matches the published example B.2.5 byte for byte, and its hmac-sha256 signature', () => {
    const input = parseDictionary('sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"').get('sig-b25') as InnerList;
    const request = {
      method: 'POST',
      target: '/foo?param=Value&Pet=dog',
      headers: { host: 'example.com', date: 'Tue, 20 Apr 2021 02:07:55 GMT', 'content-type': 'application/json' },
      body: undefined,
    };
    const base = signatureBase(['date', '@authority', 'content-type'], input, request);
    expect(base).toBe(
      [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@authority": example.com',
        '"content-type": application/json',
        '"@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
      ].join('\n'),
    );
    const key = Buffer.from('uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==', 'base64');
    expect(createHmac('sha256', key).update(base).digest('base64')).toBe('pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=');
  });
});

describe('SignedRequestVerifier', () => {
  it('accepts a request signed by signRequest, once, and names its key', async () => {
    const check = verifier();
    const request = signed();
    await expect(check.verify(request)).resolves.toEqual({ keyId: 'kid1', label: 'sig1', created: NOW / 1000 });
    expect(await rejection(request, check)).toBe('replayed');
  });

  it('accepts `created` at the edges of the window and refuses it one second beyond', async () => {
    await expect(verifier().verify(signed({ created: NOW / 1000 - 300 }))).resolves.toBeDefined();
    await expect(verifier().verify(signed({ created: NOW / 1000 + 300 }))).resolves.toBeDefined();
    expect(await rejection(signed({ created: NOW / 1000 - 301 }))).toBe('stale');
    expect(await rejection(signed({ created: NOW / 1000 + 301 }))).toBe('stale');
  });

  it('refuses an unknown key id and a wrong secret', async () => {
    expect(await rejection(signed({ keyId: 'kid2' }))).toBe('unknown-key');
    expect(await rejection(signed({ secret: `${SECRET}x` }))).toBe('bad-signature');
  });

  it.each([
    ['method', (r: SignedRequestFacts) => ({ ...r, method: 'PUT' })],
    ['path', (r: SignedRequestFacts) => ({ ...r, target: '/orderz?id=7' })],
    ['query', (r: SignedRequestFacts) => ({ ...r, target: '/orders?id=8' })],
  ])('refuses a changed %s', async (_part, tamper) => {
    expect(await rejection(tamper(signed()))).toBe('bad-signature');
  });

  it('refuses a changed body byte, with the digest header left as signed', async () => {
    const request = signed();
    expect(await rejection({ ...request, body: Buffer.from('{"qty":3}') })).toBe('bad-digest');
  });

  it('refuses a signature that leaves out the query or the body', async () => {
    const noQuery = signed({ target: '/orders' });
    expect(await rejection({ ...noQuery, target: '/orders?id=7' })).toBe('missing-components');
    const noBody = signed({ body: undefined });
    expect(await rejection({ ...noBody, body: Buffer.from('{}'), headers: { ...noBody.headers, 'content-length': '2' } })).toBe('missing-components');
  });

  it('refuses a body that was not kept as received', async () => {
    expect(await rejection({ ...signed(), body: undefined })).toBe('unverifiable-body');
  });
});

describe('resolveSignedRequestOptions', () => {
  it.each([
    [{ keys: {} }, 'keys'],
    [{ keys: { kid1: 'short' } }, 'keys.kid1'],
    [{ keys: { 'k{1}': SECRET } }, 'keys'],
    [{ keys: { kid1: SECRET }, windowSeconds: 0 }, 'windowSeconds'],
  ])('refuses %j at boot, naming %s', (options, option) => {
    expect(() => resolveSignedRequestOptions(options)).toThrow(SignedRequestConfigurationError);
    expect(() => resolveSignedRequestOptions(options)).toThrow(expect.objectContaining({ option }));
  });
});
