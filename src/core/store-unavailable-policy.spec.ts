import { SessionConfigurationError, SessionStoreUnavailableError } from './errors.js';
import { resolveSessionOptions, type SessionModuleOptions } from './session-options.js';
import { checkRevocation, REVOCATION_UNCHECKED } from './store-unavailable-policy.js';

const jwt = { keys: [{ kid: 'k1', alg: 'HS256' as const, secret: 'k'.repeat(43) }] };
const base = (extra: Partial<SessionModuleOptions>): SessionModuleOptions => ({ secret: 'x'.repeat(32), validateUser: async () => null, ...extra });

function rejection(options: SessionModuleOptions): SessionConfigurationError {
  try {
    resolveSessionOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(SessionConfigurationError);
    return error as SessionConfigurationError;
  }
  throw new Error('the options were accepted');
}

describe('storeUnavailable at boot', () => {
  it("defaults to 'reject' in every mode", () => {
    expect(resolveSessionOptions(base({})).storeUnavailable).toBe('reject');
    expect(resolveSessionOptions(base({ mode: 'jwt', jwt })).storeUnavailable).toBe('reject');
  });

  it("takes 'accept-stateless' in jwt and hybrid mode with per-request revocation", () => {
    expect(resolveSessionOptions(base({ mode: 'jwt', jwt, storeUnavailable: 'accept-stateless' })).storeUnavailable).toBe('accept-stateless');
    expect(resolveSessionOptions(base({ mode: 'hybrid', jwt, storeUnavailable: 'accept-stateless' })).storeUnavailable).toBe('accept-stateless');
  });

  it("refuses 'accept-stateless' in session mode, saying why", () => {
    const error = rejection(base({ storeUnavailable: 'accept-stateless' }));
    expect(error.option).toBe('storeUnavailable');
    expect(error.message).toMatch(/session mode.*cookie means nothing without the store/s);
  });

  it("refuses 'accept-stateless' with stateless revocation, where it would mean nothing", () => {
    const error = rejection(base({ mode: 'jwt', jwt: { ...jwt, revocation: 'stateless' }, storeUnavailable: 'accept-stateless' }));
    expect(error.option).toBe('storeUnavailable');
    expect(error.message).toContain("jwt.revocation is 'stateless'");
  });

  it('refuses an unknown value, naming the two it takes', () => {
    const error = rejection(base({ mode: 'jwt', jwt, storeUnavailable: 'accept' as never }));
    expect(error.message).toContain("Use 'reject' (the default) or 'accept-stateless'");
  });
});

describe('checkRevocation', () => {
  const down = () => Promise.reject(new SessionStoreUnavailableError('read', new Error('connection refused')));

  it("passes every answer and failure through under 'reject'", async () => {
    await expect(checkRevocation('reject', async () => null)).resolves.toBeNull();
    await expect(checkRevocation('reject', down)).rejects.toBeInstanceOf(SessionStoreUnavailableError);
  });

  it("answers REVOCATION_UNCHECKED for an unavailable store under 'accept-stateless', and passes the store's answers through", async () => {
    await expect(checkRevocation('accept-stateless', down)).resolves.toBe(REVOCATION_UNCHECKED);
    await expect(checkRevocation('accept-stateless', async () => null)).resolves.toBeNull();
  });

  it('bounds a store that never answers', async () => {
    const started = Date.now();
    await expect(checkRevocation('accept-stateless', () => new Promise<never>(() => undefined), 50)).resolves.toBe(REVOCATION_UNCHECKED);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('lets errors that are not an outage through (a bug must not turn into acceptance)', async () => {
    await expect(checkRevocation('accept-stateless', () => Promise.reject(new TypeError('bug')))).rejects.toBeInstanceOf(TypeError);
  });
});
