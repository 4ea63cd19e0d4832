import { createHmac, createSecretKey, hash, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { InvalidSessionError } from './errors.js';

/**
 * A session credential as the client holds it. `token` is 256 bits from the CSPRNG; `tag`
 * names the Redis Cluster hash slot the session lives in (see UserSlotTags), so every script
 * that touches a user's sessions and their index runs in one slot.
 */
export interface SessionToken {
  readonly tag: string;
  readonly token: string;
}

/** Where a session is stored: the slot tag and a SHA-256 of the token. The raw token never reaches the store. */
export interface SessionRef {
  readonly tag: string;
  readonly digest: string;
}

const TOKEN_BYTES = 32;
const TAG_LENGTH = 12;
const TOKEN_LENGTH = 43; // base64url of 32 bytes, no padding
/** `tag.token.signature`; the signature is the base64url of an HMAC-SHA256 (43 characters). One pass, no split. */
const COOKIE_VALUE = /^([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

export function randomToken(bytes = TOKEN_BYTES): string {
  return randomBytes(bytes).toString('base64url');
}

/** One-shot (crypto.hash, Node ≥ 20.12): no Hash object per call, on every request's path. */
export function sha256(value: string): string {
  return hash('sha256', value, 'base64url');
}

/** A user as a store finds their sessions: the id, and the slot tag those sessions share. */
export interface UserRef {
  readonly id: string;
  readonly tag: string;
}

/**
 * Slot tags for users. Sessions of one user share a tag so their index and the sessions
 * themselves hash to one Redis Cluster slot. The tag is an HMAC of the id under a key derived
 * from a `secret`, not a plain hash: it travels in the cookie, and an unkeyed hash would let
 * anyone link cookies of one user or confirm a guessed id.
 *
 * Secrets rotate, and a session keeps the tag it was created with (its keys are named by it), so
 * new sessions take the tag of the first secret while a user's sessions are looked for under the
 * tag of every configured secret. With the rotation rule (a new secret goes first; the old one
 * is dropped after `absoluteTimeout`) no live session has a tag of a dropped secret.
 */
export class UserSlotTags {
  private readonly keys: KeyObject[];

  constructor(secrets: readonly string[]) {
    // A key of its own per secret (domain separation from the cookie signature under the same secret).
    this.keys = secrets.map((secret) => createSecretKey(createHmac('sha256', secret).update('nestjs-session-auth slot tags').digest()));
  }

  /** Where a new session of this user goes. */
  current(userId: string): UserRef {
    return { id: userId, tag: this.tag(this.keys[0], userId) };
  }

  /** Every tag the user's sessions may live under, the current one first, without repeats. */
  all(userId: string): UserRef[] {
    const tags = [...new Set(this.keys.map((key) => this.tag(key, userId)))];
    return tags.map((tag) => ({ id: userId, tag }));
  }

  private tag(key: KeyObject, userId: string): string {
    return createHmac('sha256', key).update(userId).digest('base64url').slice(0, TAG_LENGTH);
  }
}

/** Anonymous sessions have no user to share a slot with: any random tag spreads them evenly. */
export function randomSlotTag(): string {
  return randomToken(9);
}

export function newSessionToken(tag: string): SessionToken {
  return { tag, token: randomToken() };
}

export function refOf(token: SessionToken): SessionRef {
  return { tag: token.tag, digest: sha256(token.token) };
}

/**
 * Signs and verifies the cookie value `tag.token.signature`. The first secret signs, every
 * secret verifies, so secrets can be rotated without logging everybody out. A forged or
 * unsigned value is rejected here, before the store is asked anything.
 */
export class SessionCookieCodec {
  private readonly keys: KeyObject[];

  constructor(secrets: readonly string[]) {
    this.keys = secrets.map((secret) => createSecretKey(Buffer.from(secret, 'utf8')));
  }

  encode(token: SessionToken): string {
    const payload = `${token.tag}.${token.token}`;
    return `${payload}.${this.sign(this.keys[0], payload)}`;
  }

  decode(value: string): SessionToken {
    const match = COOKIE_VALUE.exec(value);
    if (match === null) throw new InvalidSessionError('malformed');
    const [, tag, token, signature] = match;
    const payload = value.slice(0, TAG_LENGTH + 1 + TOKEN_LENGTH);
    // Compare the base64url text, not decoded bytes: the last character of a 43-character
    // signature carries two unused bits, and decoding would let four spellings of it pass.
    const presented = Buffer.from(signature, 'latin1');
    // Check every key, in constant time per key, so timing does not tell which key matched.
    let valid = false;
    for (const key of this.keys) {
      if (timingSafeEqual(Buffer.from(this.sign(key, payload), 'latin1'), presented)) valid = true;
    }
    if (!valid) throw new InvalidSessionError('bad-signature');
    return { tag, token };
  }

  private sign(key: KeyObject, payload: string): string {
    return createHmac('sha256', key).update(payload).digest('base64url');
  }
}
