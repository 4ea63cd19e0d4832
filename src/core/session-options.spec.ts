import { SessionConfigurationError } from './errors.js';
import { resolveSessionOptions, type SessionModuleOptions } from './session-options.js';
import { MemorySessionStore } from '../stores/memory-session-store.js';

const SECRET = 'x'.repeat(32);
const validateUser = async () => null;

function base(extra: Record<string, unknown> = {}): SessionModuleOptions {
  return { secret: SECRET, validateUser, ...extra } as SessionModuleOptions;
}

function configError(options: unknown): SessionConfigurationError {
  try {
    resolveSessionOptions(options as SessionModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(SessionConfigurationError);
    return error as SessionConfigurationError;
  }
  throw new Error('resolveSessionOptions accepted the options');
}

function expectRejected(options: unknown, option: string): SessionConfigurationError {
  const error = configError(options);
  expect(error.option).toBe(option);
  expect(error.message).toContain(`\`${option}\``);
  return error;
}

describe('resolveSessionOptions: validation', () => {
  it('rejects a missing options object', () => {
    expectRejected(undefined, 'options');
    expectRejected(null, 'options');
  });

  it('rejects a secret shorter than 32 characters, naming `secret`', () => {
    const error = expectRejected(base({ secret: 'x'.repeat(31) }), 'secret');
    expect(error.message).toMatch(/32 characters/);
  });

  it('accepts a secret of exactly 32 characters', () => {
    expect(resolveSessionOptions(base({ secret: 'y'.repeat(32) })).secrets).toEqual(['y'.repeat(32)]);
  });

  it('names the position of a short secret in a list', () => {
    expectRejected(base({ secret: [SECRET, 'short'] }), 'secret[1]');
    expectRejected(base({ secret: ['short', SECRET] }), 'secret[0]');
  });

  it('names the position of a secret in a list that is not a string', () => {
    expectRejected(base({ secret: [SECRET, 12345] }), 'secret[1]');
  });

  it('rejects a missing secret', () => {
    const error = expectRejected({ validateUser }, 'secret');
    expect(error.message).toMatch(/missing/);
  });

  it('rejects an empty list of secrets', () => {
    expectRejected(base({ secret: [] }), 'secret');
  });

  it('rejects a secret that is neither a string nor a list', () => {
    expectRejected(base({ secret: 123456789 }), 'secret');
  });

  it.each([['oauth'], ['JWT'], ['']])('rejects the unknown mode %j', (mode) => {
    expectRejected(base({ mode }), 'mode');
  });

  it('rejects an unknown option key such as a typo, naming the key', () => {
    const error = expectRejected(base({ idleTimout: '10m' }), 'idleTimout');
    expect(error.message).toContain('idleTimeout');
  });

  it('rejects extras that belong to the module, not to the options', () => {
    expectRejected(base({ routes: true }), 'routes');
  });

  it('rejects a missing or non-function validateUser', () => {
    expectRejected({ secret: SECRET }, 'validateUser');
    expectRejected({ secret: SECRET, validateUser: 'users.validate' }, 'validateUser');
  });

  it.each([
    ['idleTimeout', -1],
    ['idleTimeout', 0],
    ['idleTimeout', 'soon'],
    ['idleTimeout', '30 minutes'],
    ['absoluteTimeout', 0],
    ['absoluteTimeout', -5],
    ['absoluteTimeout', '1.5h'],
    ['touchInterval', 0],
    ['touchInterval', -1000],
    ['touchInterval', 'often'],
  ])('rejects %s = %j naming the option', (option, value) => {
    expectRejected(base({ [option]: value }), option);
  });

  it('rejects an absoluteTimeout shorter than idleTimeout', () => {
    const error = expectRejected(base({ idleTimeout: '2h', absoluteTimeout: '1h' }), 'absoluteTimeout');
    expect(error.message).toContain('idleTimeout');
  });

  it('accepts an absoluteTimeout equal to idleTimeout', () => {
    const resolved = resolveSessionOptions(base({ idleTimeout: '1h', absoluteTimeout: '60m' }));
    expect(resolved.absoluteTimeoutMs).toBe(resolved.idleTimeoutMs);
  });

  it('rejects a touchInterval equal to or longer than idleTimeout', () => {
    expectRejected(base({ idleTimeout: '10m', touchInterval: '10m' }), 'touchInterval');
    expectRejected(base({ idleTimeout: '10m', touchInterval: '11m' }), 'touchInterval');
  });

  it.each([['my sid'], ['sid;x'], ['sid=x'], [''], ['séance'], ['a,b']])('rejects the cookie name %j', (name) => {
    expectRejected(base({ cookie: { name } }), 'cookie.name');
  });

  it.each([['__Host-sid'], ['__Secure-sid'], ['__host-sid'], ['__SECURE-sid']])(
    'rejects the cookie name %j, whose prefix the library adds itself',
    (name) => {
      expectRejected(base({ cookie: { name } }), 'cookie.name');
    },
  );

  it("rejects sameSite 'none' unless secure is true", () => {
    expectRejected(base({ cookie: { sameSite: 'none' } }), 'cookie.sameSite');
    expectRejected(base({ cookie: { sameSite: 'none', secure: 'auto' } }), 'cookie.sameSite');
    expectRejected(base({ cookie: { sameSite: 'none', secure: false } }), 'cookie.sameSite');
    expect(resolveSessionOptions(base({ cookie: { sameSite: 'none', secure: true } })).cookie.sameSite).toBe('none');
  });

  it.each([['Lax'], ['STRICT'], ['yes'], [true]])('rejects the sameSite value %j', (sameSite) => {
    expectRejected(base({ cookie: { sameSite } }), 'cookie.sameSite');
  });

  it.each([['yes'], ['true'], [1], ['auto ']])('rejects the secure value %j', (secure) => {
    expectRejected(base({ cookie: { secure } }), 'cookie.secure');
  });

  it.each([['app'], ['/a b'], ['/a;b']])('rejects the cookie path %j', (path) => {
    expectRejected(base({ cookie: { path } }), 'cookie.path');
  });

  it.each([['example.com; Secure'], ['exa mple.com'], ['']])('rejects the cookie domain %j', (domain) => {
    expectRejected(base({ cookie: { domain } }), 'cookie.domain');
  });

  it('rejects an unknown store type, naming store.type', () => {
    const error = expectRejected(base({ store: { type: 'mongodb' } }), 'store.type');
    expect(error.message).toContain('mongodb');
  });

  it('rejects a store that is neither a description nor a SessionStore', () => {
    expectRejected(base({ store: 'redis://localhost' }), 'store');
    expectRejected(base({ store: { url: 'redis://localhost' } }), 'store');
  });
});

describe('resolveSessionOptions: defaults', () => {
  it('fills in every default', () => {
    const resolved = resolveSessionOptions(base());
    expect(resolved.mode).toBe('session');
    expect(resolved.secrets).toEqual([SECRET]);
    expect(resolved.validateUser).toBe(validateUser);
    expect(resolved.store).toEqual({ type: 'memory' });
    expect(resolved.idleTimeoutMs).toBe(30 * 60_000);
    expect(resolved.absoluteTimeoutMs).toBe(12 * 3_600_000);
    expect(resolved.touchIntervalMs).toBe(60_000);
    expect(resolved.cookie).toEqual({
      baseName: 'sid',
      secure: 'auto',
      sameSite: 'lax',
      domain: undefined,
      path: '/',
      persistent: false,
    });
  });

  it('defaults touchInterval to a tenth of a short idle timeout', () => {
    expect(resolveSessionOptions(base({ idleTimeout: '5m' })).touchIntervalMs).toBe(30_000);
    expect(resolveSessionOptions(base({ idleTimeout: 1_000 })).touchIntervalMs).toBe(100);
  });

  it('caps the default touchInterval at one minute', () => {
    expect(resolveSessionOptions(base({ idleTimeout: '2h', absoluteTimeout: '1d' })).touchIntervalMs).toBe(60_000);
  });

  it('keeps explicit values', () => {
    const store = new MemorySessionStore();
    try {
      const resolved = resolveSessionOptions(
        base({
          secret: [SECRET, 'z'.repeat(40)],
          idleTimeout: '10m',
          absoluteTimeout: 7_200_000,
          touchInterval: '30s',
          store,
          cookie: { name: 'app_session', secure: true, sameSite: 'strict', domain: 'example.com', path: '/app', persistent: true },
        }),
      );
      expect(resolved.secrets).toEqual([SECRET, 'z'.repeat(40)]);
      expect(resolved.idleTimeoutMs).toBe(600_000);
      expect(resolved.absoluteTimeoutMs).toBe(7_200_000);
      expect(resolved.touchIntervalMs).toBe(30_000);
      expect(resolved.store).toBe(store);
      expect(resolved.cookie).toEqual({
        baseName: 'app_session',
        secure: true,
        sameSite: 'strict',
        domain: 'example.com',
        path: '/app',
        persistent: true,
      });
    } finally {
      void store.close();
    }
  });

  it('copies the list of secrets so later changes to it have no effect', () => {
    const secrets = [SECRET];
    const resolved = resolveSessionOptions(base({ secret: secrets }));
    secrets.push('short');
    expect(resolved.secrets).toEqual([SECRET]);
  });

  it('accepts redis and memory store descriptions as given', () => {
    expect(resolveSessionOptions(base({ store: { type: 'redis', url: 'redis://127.0.0.1:1' } })).store).toEqual({
      type: 'redis',
      url: 'redis://127.0.0.1:1',
    });
    expect(resolveSessionOptions(base({ store: { type: 'memory', maxSessions: 5 } })).store).toEqual({
      type: 'memory',
      maxSessions: 5,
    });
  });
});

describe('resolveSessionOptions: userFields', () => {
  it('keeps nothing beyond id and roles by default', () => {
    expect(resolveSessionOptions(base()).userFields).toEqual([]);
  });

  it('accepts a list of field names, without repeats', () => {
    expect(resolveSessionOptions(base({ userFields: ['email', 'name', 'email'] })).userFields).toEqual(['email', 'name']);
  });

  it.each([
    ['a string', 'email'],
    ['a list with an empty name', ['']],
    ['id, which is always kept', ['id']],
    ['__proto__', ['__proto__']],
  ])('rejects %s, naming `userFields`', (_case, userFields) => {
    expect(() => resolveSessionOptions(base({ userFields: userFields as string[] }))).toThrow(/`userFields`/);
  });
});

describe('resolveSessionOptions: maxSessionsPerUser', () => {
  it("defaults to 100 sessions per user, evicting the oldest", () => {
    expect(resolveSessionOptions(base()).maxSessionsPerUser).toEqual({ limit: 100, onLimit: 'evict-oldest' });
  });

  it('keeps a limit and a policy, filling in what is left out', () => {
    expect(resolveSessionOptions(base({ maxSessionsPerUser: { limit: 3, onLimit: 'refuse' } })).maxSessionsPerUser).toEqual({ limit: 3, onLimit: 'refuse' });
    expect(resolveSessionOptions(base({ maxSessionsPerUser: { onLimit: 'refuse' } })).maxSessionsPerUser).toEqual({ limit: 100, onLimit: 'refuse' });
    expect(resolveSessionOptions(base({ maxSessionsPerUser: { limit: 1 } })).maxSessionsPerUser).toEqual({ limit: 1, onLimit: 'evict-oldest' });
  });

  it.each([0, -1, 2.5, 1001, '3', Number.NaN])('rejects the limit %p, naming `maxSessionsPerUser.limit`', (limit) => {
    expect(expectRejected(base({ maxSessionsPerUser: { limit } }), 'maxSessionsPerUser.limit').message).toMatch(/from 1 to 1000/);
  });

  it('rejects an unknown policy, an unknown field and a non-object, naming each', () => {
    expectRejected(base({ maxSessionsPerUser: { onLimit: 'evict-newest' } }), 'maxSessionsPerUser.onLimit');
    expectRejected(base({ maxSessionsPerUser: { limit: 3, max: 3 } }), 'maxSessionsPerUser.max');
    expectRejected(base({ maxSessionsPerUser: 3 }), 'maxSessionsPerUser');
  });
});
