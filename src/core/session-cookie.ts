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
  if (!header) return { kind: 'absent' };
  let count = 0;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) count++;
  }
  if (count === 0) return { kind: 'absent' };
  if (count > 1) return { kind: 'duplicate' };
  const value = parse(header)[name];
  return value ? { kind: 'present', value } : { kind: 'absent' };
}

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
