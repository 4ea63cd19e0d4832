import { CsrfTokens } from './csrf-token.js';

const OLD = 'old-secret-that-is-long-enough-0123456789';
const NEW = 'new-secret-that-is-long-enough-0123456789';
const ref = { tag: 'tag-aaaaaaaa', digest: 'digest-of-the-session-token' };

describe('CsrfTokens', () => {
  it('accepts the token it issued for the same session, and only that one', () => {
    const tokens = new CsrfTokens([NEW]);
    const token = tokens.issue(ref);
    expect(tokens.check(ref, token)).toBeNull();
    expect(tokens.check({ ...ref, digest: 'digest-after-rotation' }, token)).toBe('token-mismatch');
    expect(tokens.check(ref, token.slice(1))).toBe('token-mismatch');
    expect(tokens.check(ref, undefined)).toBe('token-missing');
    expect(tokens.check(ref, '')).toBe('token-missing');
  });

  it('verifies tokens of every configured secret, so secret rotation keeps pages working', () => {
    const before = new CsrfTokens([OLD]).issue(ref);
    expect(new CsrfTokens([NEW, OLD]).check(ref, before)).toBeNull();
    expect(new CsrfTokens([NEW]).check(ref, before)).toBe('token-mismatch');
  });
});
