import { SessionCookie, type RequestFacts } from './session-cookie.js';
import type { ResolvedCookieOptions } from './session-options.js';

const DEFAULTS: ResolvedCookieOptions = {
  baseName: 'sid',
  secure: 'auto',
  sameSite: 'lax',
  domain: undefined,
  path: '/',
  persistent: false,
};

function cookie(options: Partial<ResolvedCookieOptions> = {}): SessionCookie {
  return new SessionCookie({ ...DEFAULTS, ...options });
}

function request(cookieHeader?: string, https = false): RequestFacts {
  return { cookieHeader, https, userAgent: undefined, ip: undefined };
}

/** Splits a Set-Cookie value into its name=value pair and a map of lower-cased attribute names. */
function parseSetCookie(header: string): { pair: string; attributes: Map<string, string | true> } {
  const [pair, ...rest] = header.split(';').map((part) => part.trim());
  const attributes = new Map<string, string | true>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq === -1) attributes.set(part.toLowerCase(), true);
    else attributes.set(part.slice(0, eq).toLowerCase(), part.slice(eq + 1));
  }
  return { pair, attributes };
}

describe('SessionCookie names', () => {
  it('is plain `sid` when the cookie is not secure', () => {
    expect(cookie({ secure: false }).nameFor({ https: true })).toBe('sid');
    expect(cookie().nameFor({ https: false })).toBe('sid');
  });

  it('gets the __Host- prefix when secure, host-only and on path /', () => {
    expect(cookie({ secure: true }).nameFor({ https: false })).toBe('__Host-sid');
    expect(cookie().nameFor({ https: true })).toBe('__Host-sid');
  });

  it('gets the __Secure- prefix when secure with a domain', () => {
    expect(cookie({ secure: true, domain: 'example.com' }).nameFor({ https: true })).toBe('__Secure-sid');
  });

  it('gets the __Secure- prefix when secure with a path other than /', () => {
    expect(cookie({ secure: true, path: '/app' }).nameFor({ https: true })).toBe('__Secure-sid');
  });

  it('uses the configured base name', () => {
    expect(cookie({ baseName: 'app', secure: true }).nameFor({ https: true })).toBe('__Host-app');
    expect(cookie({ baseName: 'app', secure: false }).nameFor({ https: true })).toBe('app');
  });

  it("follows the request's scheme when secure is 'auto'", () => {
    const auto = cookie({ secure: 'auto' });
    expect(auto.isSecure({ https: true })).toBe(true);
    expect(auto.isSecure({ https: false })).toBe(false);
    expect(cookie({ secure: true }).isSecure({ https: false })).toBe(true);
    expect(cookie({ secure: false }).isSecure({ https: true })).toBe(false);
  });
});

describe('SessionCookie.read', () => {
  const plain = cookie({ secure: false });

  it('finds the session cookie among others', () => {
    expect(plain.read(request('theme=dark; sid=abc.def; lang=en'))).toEqual({ kind: 'present', value: 'abc.def' });
    expect(plain.read(request('sid=only'))).toEqual({ kind: 'present', value: 'only' });
  });

  it('reports absent with no Cookie header, an empty one, or without the cookie', () => {
    expect(plain.read(request(undefined))).toEqual({ kind: 'absent' });
    expect(plain.read(request(''))).toEqual({ kind: 'absent' });
    expect(plain.read(request('theme=dark; lang=en'))).toEqual({ kind: 'absent' });
  });

  it('reports absent for a cookie whose name only resembles the session cookie', () => {
    expect(plain.read(request('xsid=1; sidx=2; SID=3'))).toEqual({ kind: 'absent' });
  });

  it('reports absent for an empty session cookie value', () => {
    expect(plain.read(request('sid='))).toEqual({ kind: 'absent' });
  });

  it('refuses two cookies of the session name as a duplicate', () => {
    expect(plain.read(request('sid=a; sid=b'))).toEqual({ kind: 'duplicate' });
    expect(plain.read(request('sid=a;theme=dark;sid=a'))).toEqual({ kind: 'duplicate' });
    expect(plain.read(request(' sid=a ;  sid=b'))).toEqual({ kind: 'duplicate' });
  });

  it('reads the prefixed name over HTTPS and ignores the plain one', () => {
    const auto = cookie();
    expect(auto.read(request('sid=plain', true))).toEqual({ kind: 'absent' });
    expect(auto.read(request('sid=plain; __Host-sid=secure', true))).toEqual({ kind: 'present', value: 'secure' });
    expect(auto.read(request('__Host-sid=a; __Host-sid=b', true))).toEqual({ kind: 'duplicate' });
    expect(auto.read(request('__Host-sid=secure', false))).toEqual({ kind: 'absent' });
  });
});

describe('SessionCookie.serialize', () => {
  it('writes HttpOnly, SameSite and Path, and no Secure, Domain or Max-Age by default over HTTP', () => {
    const { pair, attributes } = parseSetCookie(cookie().serialize(request(), 'v.a.l', 3600));
    expect(pair).toBe('sid=v.a.l');
    expect(attributes.get('httponly')).toBe(true);
    expect(attributes.get('samesite')).toBe('Lax');
    expect(attributes.get('path')).toBe('/');
    expect(attributes.has('secure')).toBe(false);
    expect(attributes.has('domain')).toBe(false);
    expect(attributes.has('max-age')).toBe(false);
    expect(attributes.has('expires')).toBe(false);
  });

  it('writes Secure and the __Host- name over HTTPS', () => {
    const { pair, attributes } = parseSetCookie(cookie().serialize(request(undefined, true), 'value', 3600));
    expect(pair).toBe('__Host-sid=value');
    expect(attributes.get('secure')).toBe(true);
    expect(attributes.get('path')).toBe('/');
    expect(attributes.has('domain')).toBe(false);
  });

  it('writes Max-Age only for a persistent cookie', () => {
    const { attributes } = parseSetCookie(cookie({ persistent: true }).serialize(request(), 'value', 43_200));
    expect(attributes.get('max-age')).toBe('43200');
  });

  it('writes the configured domain, path and SameSite', () => {
    const header = cookie({ secure: true, sameSite: 'strict', domain: 'example.com', path: '/app' }).serialize(
      request(),
      'value',
      60,
    );
    const { pair, attributes } = parseSetCookie(header);
    expect(pair).toBe('__Secure-sid=value');
    expect(attributes.get('domain')).toBe('example.com');
    expect(attributes.get('path')).toBe('/app');
    expect(attributes.get('samesite')).toBe('Strict');
    expect(attributes.get('secure')).toBe(true);
    expect(attributes.get('httponly')).toBe(true);
  });

  it("writes SameSite=None for sameSite 'none'", () => {
    const { attributes } = parseSetCookie(cookie({ secure: true, sameSite: 'none' }).serialize(request(), 'value', 60));
    expect(attributes.get('samesite')).toBe('None');
  });
});

describe('SessionCookie.serializeCleared', () => {
  it('clears the cookie with an empty value, Max-Age=0 and an expiry in the past', () => {
    const { pair, attributes } = parseSetCookie(cookie().serializeCleared(request()));
    expect(pair).toBe('sid=');
    expect(attributes.get('max-age')).toBe('0');
    expect(new Date(attributes.get('expires') as string).getTime()).toBe(0);
    expect(attributes.get('httponly')).toBe(true);
  });

  it('uses the same name, path, domain and flags as the cookie it clears', () => {
    const options = { secure: true, sameSite: 'strict', domain: 'example.com', path: '/app', persistent: true } as const;
    const set = parseSetCookie(cookie(options).serialize(request(), 'value', 60));
    const cleared = parseSetCookie(cookie(options).serializeCleared(request()));
    expect(cleared.pair.split('=')[0]).toBe(set.pair.split('=')[0]);
    for (const name of ['path', 'domain', 'samesite', 'secure', 'httponly']) {
      expect([name, cleared.attributes.get(name)]).toEqual([name, set.attributes.get(name)]);
    }
  });

  it('clears the __Host- cookie over HTTPS', () => {
    const { pair, attributes } = parseSetCookie(cookie().serializeCleared(request(undefined, true)));
    expect(pair).toBe('__Host-sid=');
    expect(attributes.get('secure')).toBe(true);
  });
});
