import { BENCH_PASSWORD } from '../servers/app-spec.js';

/** How a variant's guarded route is authenticated, i.e. what its login answer gives. */
export type Credential =
  /** The module's `POST /auth/login`, then its session cookie. */
  | 'module-cookie'
  /** The module's `POST /auth/login`, then `Authorization: Bearer <accessToken>`. */
  | 'module-bearer'
  /** The app's own `POST /login` sets a cookie (express-session). */
  | 'set-cookie'
  /** The app's own `POST /login` answers `{ cookie }` (the hand-written GETEX guard). */
  | 'cookie-in-body'
  /** The app's own `POST /login` answers `{ access_token }` (the NestJS docs' recipe). */
  | 'docs-bearer';

export type Headers = Record<string, string>;

function cookiesOf(response: Response): string {
  const cookies = response.headers.getSetCookie().map((line) => line.split(';')[0]);
  if (cookies.length === 0) throw new Error(`login at ${response.url} set no cookie`);
  return cookies.join('; ');
}

/** Logs `username` in and returns the headers that authenticate it. */
export async function logIn(base: string, credential: Credential, username: string): Promise<Headers> {
  const path = credential.startsWith('module-') ? '/auth/login' : '/login';
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: BENCH_PASSWORD }),
  });
  if (response.status !== 200) throw new Error(`login at ${base}${path} answered ${response.status}: ${await response.text()}`);
  switch (credential) {
    case 'module-cookie':
    case 'set-cookie':
      return { cookie: cookiesOf(response) };
    case 'module-bearer':
      return { authorization: `Bearer ${((await response.json()) as { accessToken: string }).accessToken}` };
    case 'cookie-in-body':
      return { cookie: ((await response.json()) as { cookie: string }).cookie };
    case 'docs-bearer':
      return { authorization: `Bearer ${((await response.json()) as { access_token: string }).access_token}` };
  }
}

/** `POST /write`: the session gets its two small data keys. */
export async function writeTwoKeys(base: string, headers: Headers): Promise<void> {
  const response = await fetch(`${base}/write`, { method: 'POST', headers });
  if (response.status !== 200) throw new Error(`POST ${base}/write answered ${response.status}: ${await response.text()}`);
}
