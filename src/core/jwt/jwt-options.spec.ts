import { SessionConfigurationError } from '../errors.js';
import { resolveJwt, type JwtOptions } from './jwt-options.js';

const KEYS: JwtOptions['keys'] = [{ kid: 'k1', alg: 'HS256', secret: 'jwt-options-spec-secret-'.padEnd(32, '!') }];
const THIRTY_DAYS_MS = 30 * 86_400_000;

function resolve(extra: Partial<JwtOptions>) {
  return resolveJwt('jwt', { keys: KEYS, ...extra }, THIRTY_DAYS_MS)!;
}

describe('jwt.refreshReuseGrace', () => {
  it('is off (0) by default and when given as 0', () => {
    expect(resolve({}).refreshReuseGraceMs).toBe(0);
    expect(resolve({ refreshReuseGrace: 0 }).refreshReuseGraceMs).toBe(0);
  });

  it('takes a duration up to 60 s', () => {
    expect(resolve({ refreshReuseGrace: '5s' }).refreshReuseGraceMs).toBe(5_000);
    expect(resolve({ refreshReuseGrace: 1_500 }).refreshReuseGraceMs).toBe(1_500);
    expect(resolve({ refreshReuseGrace: '60s' }).refreshReuseGraceMs).toBe(60_000);
  });

  it.each([['61s'], ['2m'], ['5 seconds'], [-1], [1.5], ['']])('refuses %p at boot with an error naming the option', (value) => {
    let error: unknown;
    try {
      resolve({ refreshReuseGrace: value as never });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SessionConfigurationError);
    expect((error as SessionConfigurationError).option).toBe('jwt.refreshReuseGrace');
    expect((error as Error).message).toContain('`jwt.refreshReuseGrace`');
  });
});

describe('jwt.refreshCookiePath', () => {
  it("defaults to '/auth', the built-in routes' prefix, which covers both refresh and logout", () => {
    expect(resolve({}).refreshCookiePath).toBe('/auth');
  });
});
