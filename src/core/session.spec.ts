import { InvalidSessionDataError } from './errors.js';
import { Session } from './session.js';
import type { RequestFacts, ResponseSink } from './session-cookie.js';
import type { SessionRecord } from './session-store.js';

const REQUEST: RequestFacts = { cookieHeader: undefined, https: false, userAgent: undefined, ip: undefined };
const RESPONSE: ResponseSink = { setCookie: () => undefined, preventCaching: () => undefined };

function record(data: Record<string, unknown>, user: object | null = null): SessionRecord {
  return {
    handle: 'handle-1',
    userId: user ? 'u-1' : null,
    user: user ? JSON.stringify(user) : null,
    createdAt: 1,
    lastSeenAt: 1,
    absoluteExpiresAt: 2,
    userAgent: null,
    ip: null,
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, JSON.stringify(value)])),
  };
}

function loaded(data: Record<string, unknown>, user: object | null = null): Session {
  const session = new Session(REQUEST, RESPONSE);
  session.adopt({ tag: 't'.repeat(12), digest: 'k'.repeat(43) }, record(data, user));
  return session;
}

describe('Session data', () => {
  it('starts empty and anonymous, with no id', () => {
    const session = new Session(REQUEST, RESPONSE);
    expect(session.get('anything')).toBeUndefined();
    expect(session.has('anything')).toBe(false);
    expect(session.toJSON()).toEqual({});
    expect(session.id).toBeNull();
    expect(session.isAuthenticated).toBe(false);
    expect(session.authenticatedUser).toBeNull();
  });

  it('returns what was set, as a JSON copy', () => {
    const session = new Session(REQUEST, RESPONSE);
    const cart = { items: [1, 2], note: 'é' };
    session.set('cart', cart);
    cart.items.push(3);
    expect(session.get('cart')).toEqual({ items: [1, 2], note: 'é' });
    expect(session.has('cart')).toBe(true);
    expect(session.toJSON()).toEqual({ cart: { items: [1, 2], note: 'é' } });
  });

  it('keeps null, false, 0 and empty strings as values', () => {
    const session = new Session(REQUEST, RESPONSE);
    session.set('n', null);
    session.set('f', false);
    session.set('z', 0);
    session.set('e', '');
    expect(session.toJSON()).toEqual({ n: null, f: false, z: 0, e: '' });
    expect(session.has('n')).toBe(true);
  });

  it('reads loaded data, the handle and the user', () => {
    const session = loaded({ theme: 'dark' }, { id: 'u-1', roles: ['user'] });
    expect(session.get('theme')).toBe('dark');
    expect(session.id).toBe('handle-1');
    expect(session.isAuthenticated).toBe(true);
    expect(session.authenticatedUser).toEqual({ id: 'u-1', roles: ['user'] });
  });

  it('lets pending changes override loaded data', () => {
    const session = loaded({ theme: 'dark', lang: 'en' });
    session.set('theme', 'light');
    expect(session.get('theme')).toBe('light');
    expect(session.toJSON()).toEqual({ theme: 'light', lang: 'en' });
    expect(session.changes.get('theme')).toBe('"light"');
  });

  it('deletes a loaded key with delete()', () => {
    const session = loaded({ theme: 'dark', lang: 'en' });
    session.delete('theme');
    expect(session.get('theme')).toBeUndefined();
    expect(session.has('theme')).toBe(false);
    expect(session.toJSON()).toEqual({ lang: 'en' });
    expect(session.changes.get('theme')).toBeNull();
  });

  it('deletes a key when set to undefined', () => {
    const session = loaded({ theme: 'dark' });
    session.set('theme', undefined);
    expect(session.has('theme')).toBe(false);
    expect(session.toJSON()).toEqual({});
    expect(session.changes.has('theme')).toBe(true);
    expect(session.changes.get('theme')).toBeNull();
  });

  it('can set a key again after deleting it', () => {
    const session = loaded({ theme: 'dark' });
    session.delete('theme');
    session.set('theme', 'blue');
    expect(session.get('theme')).toBe('blue');
  });

  it('merges loaded data with pending changes for login carry-over', () => {
    const session = loaded({ a: 1, b: 2 });
    session.set('b', 3);
    session.set('c', 4);
    session.delete('a');
    expect(session.mergedData()).toEqual({ b: '3', c: '4' });
  });

  it('serializes through toJSON when passed to JSON.stringify', () => {
    const session = loaded({ a: 1 });
    session.set('b', [true]);
    expect(JSON.parse(JSON.stringify(session))).toEqual({ a: 1, b: [true] });
  });

  it('keeps a key named __proto__ like any other key, or refuses it', () => {
    const session = new Session(REQUEST, RESPONSE);
    let refused = false;
    try {
      session.set('__proto__', { polluted: true });
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidSessionDataError);
      refused = true;
    }
    if (refused) return;
    const json = session.toJSON();
    expect(Object.getPrototypeOf(json)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(json, '__proto__')).toBe(true);
    expect(Object.prototype.hasOwnProperty.call(session.mergedData(), '__proto__')).toBe(true);
  });
});

describe('Session keys and values', () => {
  it.each([
    ['an empty key', ''],
    ['a key with a space', 'my key'],
    ['a key with a tab', 'a\tb'],
    ['a key with a newline', 'a\nb'],
    ['a key with a NUL', 'a\u0000b'],
    ['a key with DEL', 'a\u007fb'],
    ['a non-ASCII key', 'clé'],
    ['a key of 129 characters', 'k'.repeat(129)],
  ])('rejects %s with InvalidSessionDataError', (_label, key) => {
    const session = new Session(REQUEST, RESPONSE);
    expect(() => session.set(key, 1)).toThrow(InvalidSessionDataError);
    expect(() => session.delete(key)).toThrow(InvalidSessionDataError);
    expect(session.changes.size).toBe(0);
  });

  it('accepts a key of 128 printable characters', () => {
    const session = new Session(REQUEST, RESPONSE);
    const key = `${'k'.repeat(120)}:!~{}[]/`;
    expect(key).toHaveLength(128);
    session.set(key, 1);
    expect(session.get(key)).toBe(1);
  });

  it('rejects a non-string key', () => {
    const session = new Session(REQUEST, RESPONSE);
    expect(() => session.set(42 as unknown as string, 1)).toThrow(InvalidSessionDataError);
  });

  it.each([
    ['a function', () => () => 1],
    ['a symbol', () => Symbol('s')],
    ['a BigInt', () => BigInt(1)],
    ['an object holding a BigInt', () => ({ n: BigInt(1) })],
    [
      'a circular object',
      () => {
        const value: Record<string, unknown> = {};
        value.self = value;
        return value;
      },
    ],
  ])('rejects %s as not JSON-serializable', (_label, make) => {
    const session = new Session(REQUEST, RESPONSE);
    expect(() => session.set('key', make())).toThrow(InvalidSessionDataError);
    expect(session.changes.size).toBe(0);
    expect(session.has('key')).toBe(false);
  });

  it('names the key in the error for a bad value', () => {
    const session = new Session(REQUEST, RESPONSE);
    expect(() => session.set('callback', () => 1)).toThrow(/"callback"/);
  });

  it('accepts a value of exactly 64 KiB as JSON', () => {
    const session = new Session(REQUEST, RESPONSE);
    const value = 'x'.repeat(64 * 1024 - 2);
    session.set('big', value);
    expect(session.get('big')).toBe(value);
  });

  it('rejects a value over 64 KiB as JSON', () => {
    const session = new Session(REQUEST, RESPONSE);
    expect(() => session.set('big', 'x'.repeat(64 * 1024 - 1))).toThrow(InvalidSessionDataError);
    expect(session.changes.size).toBe(0);
  });

  it('counts bytes, not characters, towards the 64 KiB limit', () => {
    const session = new Session(REQUEST, RESPONSE);
    const value = 'é'.repeat(33_000);
    expect(value.length).toBeLessThan(64 * 1024);
    expect(() => session.set('big', value)).toThrow(InvalidSessionDataError);
  });

  it('keeps the previous value when a new value is rejected', () => {
    const session = loaded({ theme: 'dark' });
    expect(() => session.set('theme', () => 'light')).toThrow(InvalidSessionDataError);
    expect(session.get('theme')).toBe('dark');
  });
});
