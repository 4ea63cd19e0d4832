import { InvalidSessionError } from './errors.js';
import { newSessionToken, randomSlotTag, refOf, SessionCookieCodec } from './session-token.js';
import { VerifiedCookies } from './verified-cookies.js';

const SECRET = 'c'.repeat(16) + '-verified-cookies-secret-32';
const OTHER_SECRET = 'd'.repeat(16) + '-another-secret-of-32-chars';

const codec = new SessionCookieCodec([SECRET]);
const signed = () => {
  const token = newSessionToken(randomSlotTag());
  return { token, value: codec.encode(token) };
};

function reasonOf(cookies: VerifiedCookies, value: string): string {
  try {
    cookies.verify(value);
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSessionError);
    return (error as InvalidSessionError).reason;
  }
}

describe('VerifiedCookies', () => {
  it('gives the token and store reference of a signed value, the same the second time', () => {
    const cookies = new VerifiedCookies(codec);
    const { token, value } = signed();
    expect(cookies.verify(value)).toEqual({ token, ref: refOf(token) });
    expect(cookies.verify(value)).toBe(cookies.verify(value));
  });

  it('never keeps a forged value: it is refused every time, even next to its genuine twin', () => {
    const cookies = new VerifiedCookies(codec);
    const { value } = signed();
    cookies.verify(value);
    const last = value.at(-2) === 'A' ? 'B' : 'A';
    const forged = `${value.slice(0, -2)}${last}${value.at(-1)}`;
    for (let i = 0; i < 3; i++) expect(reasonOf(cookies, forged)).toBe('bad-signature');
    expect(reasonOf(cookies, 'garbage')).toBe('malformed');
    expect(cookies.size).toBe(1);
  });

  it('refuses a value signed under a secret its codec does not have', () => {
    const foreign = new SessionCookieCodec([OTHER_SECRET]).encode(newSessionToken(randomSlotTag()));
    expect(reasonOf(new VerifiedCookies(codec), foreign)).toBe('bad-signature');
  });

  it('keeps at most maxEntries values, dropping the oldest first', () => {
    const cookies = new VerifiedCookies(codec, 2);
    const [first, second, third] = [signed(), signed(), signed()];
    for (const { value } of [first, second, third]) cookies.verify(value);
    expect(cookies.size).toBe(2);
    // The oldest is verified again (and kept again) when it comes back: still accepted.
    expect(cookies.verify(first.value).ref).toEqual(refOf(first.token));
    expect(cookies.size).toBe(2);
  });
});
