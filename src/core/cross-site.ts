/** What the cross-site check reads from a request. */
export interface FetchFacts {
  method: string;
  /** The `Sec-Fetch-Site` header (Fetch Metadata), sent by current browsers. */
  secFetchSite: string | undefined;
  /** The `Origin` header. */
  origin: string | undefined;
  /** The `Host` header the request was sent to. */
  host: string | undefined;
  /** Whether the request reached the app over HTTPS (after the app's trust-proxy rules). */
  https: boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** GET, HEAD and OPTIONS: they must change nothing, so no CSRF defence applies to them. */
export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

/**
 * CSRF defence for cookie-authenticated requests (OWASP CSRF cheat sheet, ASVS 3.5): an unsafe
 * method is refused when the browser says it comes from another site. Fetch Metadata first
 * (`Sec-Fetch-Site`), then the `Origin` header for browsers without it. A request with
 * neither is not from a browser, and so cannot be a forged browser request.
 */
export function isCrossSiteRequest(request: FetchFacts, allowedOrigins: ReadonlySet<string>): boolean {
  if (isSafeMethod(request.method)) return false;
  const origin = request.origin;
  if (origin !== undefined && allowedOrigins.has(origin)) return false;
  const site = request.secFetchSite?.toLowerCase();
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  if (origin === undefined) return false;
  // An origin is scheme, host and port: http://app.example.com is another origin than the https one.
  const own = originOf(`${request.https ? 'https' : 'http'}://${request.host ?? ''}`);
  return origin === 'null' || own === undefined || originOf(origin) !== own;
}

/** The serialised origin, with the scheme's default port dropped and the host in lower case. */
function originOf(url: string): string | undefined {
  try {
    const { origin } = new URL(url);
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** The check as the guards apply it: refused when CSRF protection is on and the request is cross-site. */
export function refusesCrossSite(csrf: { allowedOrigins: ReadonlySet<string> } | null, request: FetchFacts | undefined): boolean {
  return csrf !== null && request !== undefined && isCrossSiteRequest(request, csrf.allowedOrigins);
}
