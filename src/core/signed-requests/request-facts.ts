/** What the signature check needs of an HTTP request, whatever the server. */
export interface SignedRequestFacts {
  method: string;
  /** The request target as received: path and query, e.g. `/orders?id=7`. */
  target: string;
  /** Header values by lower-case name, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The body exactly as received, byte for byte; undefined when the request has none. */
  body: Uint8Array | undefined;
}

/** `@path` and `@query` of a request target (RFC 9421 §2.2.6, §2.2.7); an absolute-form target is reduced to its path and query. */
export function splitTarget(target: string): { path: string; query: string } {
  let pathAndQuery = target;
  if (!target.startsWith('/')) {
    try {
      const url = new URL(target);
      pathAndQuery = url.pathname + url.search;
    } catch {
      pathAndQuery = '/';
    }
  }
  const mark = pathAndQuery.indexOf('?');
  const path = mark < 0 ? pathAndQuery : pathAndQuery.slice(0, mark);
  const query = mark < 0 ? '' : pathAndQuery.slice(mark + 1);
  return { path: path === '' ? '/' : path, query };
}
