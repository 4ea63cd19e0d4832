/**
 * A browser's cookie jar, as far as the e2e suites need one: it keeps what Set-Cookie headers
 * store and sends a cookie only to the paths it matches (RFC 6265 §5.1.4), so a test of "what
 * the browser sends to /auth/logout" cannot send a cookie scoped elsewhere. Plain HTTP only:
 * Secure cookies are never sent.
 */
import type { Response } from 'supertest';
import { parseSetCookie, setCookies } from './http-helpers.js';

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  secure: boolean;
}

export class BrowserCookies {
  /** By name and path: one cookie of a name per path, as in a browser. */
  private readonly cookies = new Map<string, StoredCookie>();

  /** Takes the Set-Cookie headers of a response to a request for `requestPath`. */
  store(response: Response, requestPath: string): void {
    for (const raw of setCookies(response)) {
      const { name, value, attributes } = parseSetCookie(raw);
      const pathAttribute = attributes.get('path');
      const path = typeof pathAttribute === 'string' && pathAttribute.startsWith('/') ? pathAttribute : defaultPath(requestPath);
      const key = `${name};${path}`;
      const maxAge = attributes.get('max-age');
      const expires = attributes.get('expires');
      const expired = (typeof maxAge === 'string' && Number(maxAge) <= 0) || (typeof expires === 'string' && Date.parse(expires) <= Date.now());
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path, secure: attributes.has('secure') });
    }
  }

  /** The Cookie header a browser sends with a request for `requestPath`, longer paths first (RFC 6265 §5.4); '' for none. */
  header(requestPath: string): string {
    return [...this.cookies.values()]
      .filter((cookie) => !cookie.secure && pathMatches(requestPath, cookie.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }

  /** The value of the one stored cookie of that name, whatever its path; fails when there is not exactly one. */
  value(name: string): string {
    const matches = [...this.cookies.values()].filter((cookie) => cookie.name === name);
    if (matches.length !== 1) throw new Error(`expected one ${name} cookie in the jar, found ${matches.length}`);
    return matches[0].value;
  }
}

/** RFC 6265 §5.1.4: the request path up to, not including, its last '/'; '/' when that leaves nothing. */
function defaultPath(requestPath: string): string {
  const last = requestPath.lastIndexOf('/');
  return last <= 0 ? '/' : requestPath.slice(0, last);
}

/** RFC 6265 §5.1.4 path-match: the same path, or a prefix of it that ends at a '/'. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}
