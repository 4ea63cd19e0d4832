/** What the cross-site check reads from a request. */
export interface FetchFacts {
  method: string;
  /** The `Sec-Fetch-Site` header (Fetch Metadata), sent by current browsers. */
  secFetchSite: string | undefined;
  /** The `Origin` header. */
  origin: string | undefined;
  /** The `Host` header the request was sent to. */
  host: string | undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for cookie-authenticated requests (OWASP CSRF cheat sheet, ASVS 3.5): an unsafe
 * method is refused when the browser says it comes from another site. Fetch Metadata first
 * (`Sec-Fetch-Site`), then the `Origin` header for browsers without it. A request with
 * neither is not from a browser, and so cannot be a forged browser request.
 */
export function isCrossSiteRequest(request: FetchFacts, allowedOrigins: ReadonlySet<string>): boolean {
  if (SAFE_METHODS.has(request.method.toUpperCase())) return false;
  const origin = request.origin;
  if (origin !== undefined && allowedOrigins.has(origin)) return false;
  const site = request.secFetchSite?.toLowerCase();
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  if (origin === undefined) return false;
  return origin === 'null' || hostOf(origin) !== request.host?.toLowerCase();
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined;
  }
}
