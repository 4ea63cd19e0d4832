/**
 * ECDSA signatures are malleable: if (r, s) verifies, so does (r, n − s). JOSE does not forbid
 * the twin, so a token could be respelled into a second valid token. Accepting only the low-S
 * form (s ≤ n/2, as Bitcoin's BIP 62 and libsecp256k1 do) leaves one spelling per signature.
 */

/** The order n of the P-256 group (FIPS 186-4 D.1.2.3), the curve of ES256. */
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const P256_HALF_ORDER = P256_ORDER >> 1n;
/** JWS ES256 signatures are r and s as two 32-byte big-endian integers (RFC 7518 §3.4). */
const P256_SCALAR_BYTES = 32;

/** True when `signature` is a 64-byte ES256 signature in its low-S form. */
export function isLowSEs256Signature(signature: Buffer): boolean {
  if (signature.length !== 2 * P256_SCALAR_BYTES) return false;
  const s = toBigInt(signature.subarray(P256_SCALAR_BYTES));
  return s > 0n && s <= P256_HALF_ORDER;
}

/** The low-S twin of an ES256 signature (the signature itself when it already is low-S). */
export function toLowSEs256Signature(signature: Buffer): Buffer {
  if (signature.length !== 2 * P256_SCALAR_BYTES) return signature;
  const s = toBigInt(signature.subarray(P256_SCALAR_BYTES));
  if (s <= P256_HALF_ORDER) return signature;
  return Buffer.concat([signature.subarray(0, P256_SCALAR_BYTES), fromBigInt(P256_ORDER - s)]);
}

function toBigInt(bytes: Buffer): bigint {
  return BigInt(`0x${bytes.toString('hex') || '0'}`);
}

function fromBigInt(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(2 * P256_SCALAR_BYTES, '0'), 'hex');
}
