import { parse, serialize } from 'cookie';
import type { FetchFacts } from './cross-site.js';
import type { ResolvedCookieOptions } from './session-options.js';

/** What the session layer needs to know about one HTTP request. */
export interface RequestFacts {
  /** The raw Cookie header, if any. */
  cookieHeader: string | undefined;
  /** The raw Authorization header, if any. */
  authorization?: string;
  /** For the cross-site check: method, Sec-Fetch-Site, Origin, Host. */
  fetch?: FetchFacts;
  /** Whether the request reached the app over HTTPS (after the app's trust-proxy rules). */
  https: boolean;
  userAgent: string | undefined;
  ip: string | undefined;
}

/** Where the session layer writes its response headers. */
export interface ResponseSink {
  setCookie(serialized: string): void;
  /** Responses that carry a credential must not be cached (OWASP session management). */
  preventCaching(): void;
}

export type CookieLookup =
  | { kind: 'absent' }
  | { kind: 'duplicate' }
  | { kind: 'present'; value: string };

/**
 * The one cookie of that name. Two of them (one planted by a sibling subdomain, say) make the
 * request ambiguous, and it is refused rather than "take the first" (OWASP session management
 * cheat sheet). The cookie package keeps only the first of a name, so duplicates are counted here.
 */
export function findCookie(header: string | undefined, name: string): CookieLookup {
  if (!header) return ABSENT;
  // One pass over the pairs, on every guarded request: only the pair of that name is decoded.
  let pair: string | undefined;
  for (let start = 0; start < header.length; ) {
    const next = header.indexOf(';', start);
    const end = next === -1 ? header.length : next;
    const eq = header.indexOf('=', start);
    if (eq > start && eq < end && header.slice(start, eq).trim() === name) {
      if (pair !== undefined) return DUPLICATE;
      pair = header.slice(start, end);
    }
    start = end + 1;
  }
  const value = pair === undefined ? undefined : parse(pair)[name];
  return value ? { kind: 'present', value } : ABSENT;
}

const ABSENT: CookieLookup = Object.freeze({ kind: 'absent' });
const DUPLICATE: CookieLookup = Object.freeze({ kind: 'duplicate' });

/** Names, reads and writes the session cookie according to the resolved cookie options. */
export class SessionCookie {
  /** The two names the cookie can have, built once: over HTTPS (secure) and over plain HTTP. */
  private readonly secureName: string;
  private readonly plainName: string;

  constructor(private readonly options: ResolvedCookieOptions) {
    const hostOnly = options.domain === undefined && options.path === '/';
    this.secureName = `${hostOnly ? '__Host-' : '__Secure-'}${options.baseName}`;
    this.plainName = options.baseName;
  }

  isSecure(request: Pick<RequestFacts, 'https'>): boolean {
    return this.options.secure === 'auto' ? request.https : this.options.secure;
  }

  /** RFC 6265bis §4.1.3: `__Host-` pins the cookie to this host and `/`; `__Secure-` when a domain or path is set. */
  nameFor(request: Pick<RequestFacts, 'https'>): string {
    return this.isSecure(request) ? this.secureName : this.plainName;
  }

  /** Finds the session cookie; see findCookie. */
  read(request: RequestFacts): CookieLookup {
    return findCookie(request.cookieHeader, this.nameFor(request));
  }

  serialize(request: RequestFacts, value: string, maxAgeSeconds: number): string {
    return serialize(this.nameFor(request), value, {
      ...this.attributes(request),
      ...(this.options.persistent ? { maxAge: maxAgeSeconds } : {}),
    });
  }

  /** Same name, path and domain as when set, or the browser keeps the old cookie. */
  serializeCleared(request: RequestFacts): string {
    return serialize(this.nameFor(request), '', { ...this.attributes(request), maxAge: 0, expires: new Date(0) });
  }

  private attributes(request: RequestFacts) {
    return {
      httpOnly: true,
      secure: this.isSecure(request),
      sameSite: this.options.sameSite,
      path: this.options.path,
      domain: this.options.domain,
    } as const;
  }
}
