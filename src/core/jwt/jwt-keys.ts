import { createPrivateKey, createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SessionConfigurationError } from '../errors.js';

export type JwtAlgorithm = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'ES256' | 'EdDSA';

export interface JwtKeyOption {
  /** Key id, put in the token header; verification only uses the key whose kid matches. */
  kid: string;
  /** The one algorithm this key is used with; a token naming any other is rejected. */
  alg: JwtAlgorithm;
  /** HS*: the shared secret, at least as many bytes as the hash output (32 for HS256, RFC 8725 §3.5). */
  secret?: string;
  /** RS256/ES256/EdDSA: PEM text or KeyObject. Needed on the first (signing) key. */
  privateKey?: string | KeyObject;
  /** RS256/ES256/EdDSA: PEM text or KeyObject. Derived from privateKey when absent; alone = verify-only. */
  publicKey?: string | KeyObject;
}

/** A configured key, parsed once at boot into KeyObjects. */
export interface JwtKey {
  kid: string;
  alg: JwtAlgorithm;
  /** The key that signs: the secret for HS*, the private key otherwise; null for verify-only keys. */
  signingKey: KeyObject | null;
  /** The key that verifies: the secret for HS*, the public key otherwise. */
  verificationKey: KeyObject;
}

const HMAC_KEY_BYTES: Partial<Record<JwtAlgorithm, number>> = { HS256: 32, HS384: 48, HS512: 64 };
const ASYMMETRIC_TYPES: Partial<Record<JwtAlgorithm, string>> = { RS256: 'rsa', ES256: 'ec', EdDSA: 'ed25519' };
const MIN_RSA_BITS = 2048;

function parseKey(option: string, parse: () => KeyObject): KeyObject {
  try {
    return parse();
  } catch (error) {
    throw new SessionConfigurationError(option, `cannot be read (${(error as Error).message})`, 'Give a PEM string or a KeyObject.');
  }
}

function toJwtKey(key: JwtKeyOption, index: number): JwtKey {
  const option = `jwt.keys[${index}]`;
  if (typeof key?.kid !== 'string' || key.kid.length === 0 || key.kid.length > 128) {
    throw new SessionConfigurationError(`${option}.kid`, 'is missing', 'Give every key a short unique string id.');
  }
  // Own properties only: an alg such as 'toString' must not find Object.prototype.
  const hashBytes = Object.hasOwn(HMAC_KEY_BYTES, key.alg) ? HMAC_KEY_BYTES[key.alg] : undefined;
  if (hashBytes !== undefined) {
    if (typeof key.secret !== 'string' || Buffer.byteLength(key.secret) < hashBytes) {
      throw new SessionConfigurationError(
        `${option}.secret`,
        `is shorter than ${hashBytes} bytes, the ${key.alg} hash output`,
        `Use a random secret of at least ${hashBytes} bytes (RFC 8725 §3.5), e.g. \`openssl rand -base64 ${hashBytes}\`.`,
      );
    }
    const secret = createSecretKey(Buffer.from(key.secret, 'utf8'));
    return { kid: key.kid, alg: key.alg, signingKey: secret, verificationKey: secret };
  }
  const type = Object.hasOwn(ASYMMETRIC_TYPES, key.alg) ? ASYMMETRIC_TYPES[key.alg] : undefined;
  if (type === undefined) {
    throw new SessionConfigurationError(`${option}.alg`, `is ${JSON.stringify(key.alg)}`, 'Use HS256, HS384, HS512, RS256, ES256 or EdDSA.');
  }
  const privateKey = key.privateKey === undefined ? null : parseKey(`${option}.privateKey`, () => toPrivateKey(key.privateKey!));
  const publicKey =
    key.publicKey !== undefined
      ? parseKey(`${option}.publicKey`, () => toPublicKey(key.publicKey!))
      : privateKey && createPublicKey(privateKey);
  if (publicKey === null) {
    throw new SessionConfigurationError(option, 'has neither privateKey nor publicKey', `Give the ${key.alg} key pair in PEM.`);
  }
  if (privateKey && key.publicKey !== undefined && !createPublicKey(privateKey).equals(publicKey)) {
    throw new SessionConfigurationError(option, 'has a privateKey and a publicKey that are not one pair', 'Give the public key of that private key, or leave publicKey out.');
  }
  assertKeyFits(option, key.alg, type, publicKey);
  return { kid: key.kid, alg: key.alg, signingKey: privateKey, verificationKey: publicKey };
}

function toPrivateKey(value: string | KeyObject): KeyObject {
  if (typeof value === 'string') return createPrivateKey(value);
  if (value.type !== 'private') throw new Error(`a ${value.type} KeyObject is not a private key`);
  return value;
}

function toPublicKey(value: string | KeyObject): KeyObject {
  if (typeof value === 'string') return createPublicKey(value);
  if (value.type === 'secret') throw new Error('a secret KeyObject is not a public key');
  return value.type === 'private' ? createPublicKey(value) : value;
}

/** The algorithm is bound to the key's type, so a token cannot switch an RSA key to HMAC (key confusion). */
function assertKeyFits(option: string, alg: JwtAlgorithm, type: string, key: KeyObject): void {
  const details = key.asymmetricKeyDetails;
  const fits =
    key.asymmetricKeyType === type &&
    (alg !== 'RS256' || (details?.modulusLength ?? 0) >= MIN_RSA_BITS) &&
    (alg !== 'ES256' || details?.namedCurve === 'prime256v1');
  if (!fits) {
    throw new SessionConfigurationError(
      option,
      `holds a ${key.asymmetricKeyType ?? 'secret'} key that does not fit ${alg}`,
      alg === 'RS256'
        ? `Use an RSA key of at least ${MIN_RSA_BITS} bits.`
        : alg === 'ES256'
          ? 'Use an EC P-256 (prime256v1) key.'
          : 'Use an Ed25519 key.',
    );
  }
}

/**
 * The configured keys: the first signs, every one verifies until it is removed from the list.
 * Everything is parsed here, at boot, never per request.
 */
export class JwtKeyRing {
  readonly signing: JwtKey;
  private readonly byKid: Map<string, JwtKey>;

  constructor(options: readonly JwtKeyOption[] | undefined) {
    if (!Array.isArray(options) || options.length === 0) {
      throw new SessionConfigurationError(
        'jwt.keys',
        'is missing',
        "Give at least one key, e.g. [{ kid: '2026-01', alg: 'HS256', secret: process.env.JWT_SECRET }].",
      );
    }
    const keys = options.map(toJwtKey);
    this.byKid = new Map();
    for (const key of keys) {
      if (this.byKid.has(key.kid)) {
        throw new SessionConfigurationError('jwt.keys', `has the kid ${JSON.stringify(key.kid)} twice`, 'Give every key its own kid.');
      }
      this.byKid.set(key.kid, key);
    }
    if (keys[0].signingKey === null) {
      throw new SessionConfigurationError('jwt.keys[0]', 'cannot sign (no privateKey)', 'Put a key with its private part first; verify-only keys go after it.');
    }
    this.signing = keys[0];
  }

  find(kid: unknown): JwtKey | undefined {
    return typeof kid === 'string' ? this.byKid.get(kid) : undefined;
  }

  /** Public keys as a JWK Set for GET /.well-known/jwks.json; shared secrets are never published. */
  jwks(): { keys: JsonWebKey[] } {
    const keys = [...this.byKid.values()]
      .filter((key) => key.verificationKey.type === 'public')
      .map((key) => ({ ...key.verificationKey.export({ format: 'jwk' }), kid: key.kid, alg: key.alg, use: 'sig' }));
    return { keys };
  }
}
