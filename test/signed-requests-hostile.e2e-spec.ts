/**
 * Hostile signature headers, property style: seeded random garbage and random mutations of a
 * valid signature in Signature-Input, Signature and Content-Digest are answered with 401 (or,
 * for a mutation that keeps the meaning, 200), never 500.
 */
import type { INestApplication } from '@nestjs/common';
import { createSignedApp, send, signedHeaders, type SignedCall } from './support/signed-app.js';
import { ADAPTERS, type AdapterName } from './support/test-app.js';

const ORDER: SignedCall = { method: 'POST', target: '/m2m/orders/5?x=1', body: '{"a":1}' };
const HEADERS = ['signature-input', 'signature', 'content-digest'] as const;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@-_.+/*?:;=,()"\\ \t%!#$&\'[]{}<>|^`~';
const CASES = 150;

/** mulberry32: the same cases on every run, so a failure can be reproduced. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function garbage(next: () => number, length: number): string {
  return Array.from({ length }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join('').trim() || 'x';
}

function mutate(next: () => number, value: string): string {
  const at = Math.floor(next() * value.length);
  const char = ALPHABET[Math.floor(next() * ALPHABET.length)];
  switch (Math.floor(next() * 4)) {
    case 0:
      return value.slice(0, at) + char + value.slice(at + 1);
    case 1:
      return value.slice(0, at) + value.slice(at + 1);
    case 2:
      return value.slice(0, at) + char + value.slice(at);
    default:
      return value.slice(0, at);
  }
}

/** Header values Node refuses to send (leading or trailing whitespace is trimmed by the receiver anyway). */
function sendable(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, value.trim() === '' ? 'x' : value]));
}

const SPECIAL_CASES: Array<[string, (valid: Record<string, string>) => Record<string, string>]> = [
  ['created beyond a safe integer', (v) => ({ ...v, 'signature-input': v['signature-input'].replace(/created=\d+/, 'created=999999999999999') })],
  ['created negative', (v) => ({ ...v, 'signature-input': v['signature-input'].replace(/created=\d+/, 'created=-1') })],
  ['created decimal', (v) => ({ ...v, 'signature-input': v['signature-input'].replace(/created=(\d+)/, 'created=$1.5') })],
  ['keyid as a token', (v) => ({ ...v, 'signature-input': v['signature-input'].replace('keyid="kid1"', 'keyid=kid1') })],
  ['nonce as bytes', (v) => ({ ...v, 'signature-input': v['signature-input'].replace(/nonce="[^"]*"/, 'nonce=:AAAA:') })],
  ['alg another algorithm', (v) => ({ ...v, 'signature-input': v['signature-input'].replace('hmac-sha256', 'rsa-pss-sha512') })],
  ['a component with parameters', (v) => ({ ...v, 'signature-input': v['signature-input'].replace('"@path"', '"@path";req') })],
  ['an unknown derived component', (v) => ({ ...v, 'signature-input': v['signature-input'].replace('"@path"', '"@path" "@status"') })],
  ['a covered header that is missing', (v) => ({ ...v, 'signature-input': v['signature-input'].replace('"@path"', '"@path" "x-missing"') })],
  ['signature as a string', (v) => ({ ...v, signature: 'sig1="abc"' })],
  ['signature under another label', (v) => ({ ...v, signature: v.signature.replace('sig1=', 'sig2=') })],
  ['a digest as a string', (v) => ({ ...v, 'content-digest': 'sha-256="abc"' })],
  ['a digest of another algorithm only', (v) => ({ ...v, 'content-digest': v['content-digest'].replace('sha-256', 'sha-512') })],
  ['an 8 KiB Signature-Input', (v) => ({ ...v, 'signature-input': `sig1=("${'a'.repeat(8200)}");created=1` })],
  ['33 components', (v) => ({ ...v, 'signature-input': `sig1=(${Array.from({ length: 33 }, (_, i) => `"h${i}"`).join(' ')});created=1;keyid="kid1";nonce="n"` })],
];

describe.each(ADAPTERS)('hostile signature headers (%s)', (adapter: AdapterName) => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createSignedApp({ adapter });
  });
  afterAll(() => app.close());

  it(`answers ${CASES} random garbage values of the three headers with 401`, async () => {
    const next = random(421);
    for (let i = 0; i < CASES; i++) {
      const headers = sendable(Object.fromEntries(HEADERS.map((name) => [name, garbage(next, 1 + Math.floor(next() * 120))])));
      const response = await send(app, ORDER, headers);
      expect({ headers, status: response.status }).toEqual({ headers, status: 401 });
    }
  });

  it(`answers ${CASES} random one-character mutations of a valid signature with 401 or 200, never 500`, async () => {
    const next = random(9530);
    for (let i = 0; i < CASES; i++) {
      const headers = signedHeaders(ORDER);
      const name = HEADERS[Math.floor(next() * HEADERS.length)];
      headers[name] = mutate(next, headers[name]);
      const response = await send(app, ORDER, sendable(headers));
      expect({ headers, ok: [200, 401].includes(response.status) }).toEqual({ headers, ok: true });
    }
  });

  it.each(SPECIAL_CASES)('answers %s with 401', async (_case, change) => {
    await send(app, ORDER, change(signedHeaders(ORDER))).expect(401);
  });
});
