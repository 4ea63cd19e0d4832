import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { formatPhc, type PhcHash } from './phc.js';

/** OWASP Password Storage Cheat Sheet: N = 2^17, r = 8, p = 1. */
export const SCRYPT_MINIMUM = { ln: 17, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Refuse to run stored parameters beyond this (2^20 needs 1 GiB): a corrupt row must not exhaust memory. */
const MAX_LN = 20;

export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

/** node:crypto's scrypt runs on the libuv thread pool, so the event loop stays free while it works. */
function derive(password: string, salt: Buffer, length: number, { ln, r, p }: ScryptParams): Promise<Buffer> {
  const N = 2 ** ln;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, length, { N, r, p, maxmem: 2 * 128 * N * r * p }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export async function scryptHash(password: string, params: ScryptParams): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, KEY_BYTES, params);
  return formatPhc({ id: 'scrypt', params: { ln: params.ln, r: params.r, p: params.p }, salt, hash });
}

/** Null when the stored parameters are not usable scrypt parameters. */
export function scryptParamsOf(phc: PhcHash): ScryptParams | null {
  const { ln, r, p } = phc.params;
  if (![ln, r, p].every(Number.isSafeInteger) || ln < 1 || ln > MAX_LN || r < 1 || r > 32 || p < 1 || p > 16) return null;
  return { ln, r, p };
}

export async function scryptVerify(phc: PhcHash, params: ScryptParams, password: string): Promise<boolean> {
  const candidate = await derive(password, phc.salt, phc.hash.length, params);
  return timingSafeEqual(candidate, phc.hash);
}
