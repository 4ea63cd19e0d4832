import type { SessionRef } from '../../core/session-token.js';

/**
 * A session key holds the first 8 base64url characters (48 bits) of the token's SHA-256, which
 * are also its member in the user's index. Short names keep the index a listpack and a session's
 * key within 30 characters under the default prefix (Redis then gives it the smallest string
 * header and a 32-byte allocation instead of 48). They need to be unique only under one slot
 * tag: among a user's live sessions (at most maxSessionsPerUser; a new session meets one of n
 * others with chance n * 2^-48) or one anonymous session under its own random tag. They are no
 * way in: a cookie needs the server's HMAC over the full 256-bit token, a bearer token the
 * server's signature, and the token itself is never stored.
 */
export const KEY_DIGEST_LENGTH = 8;

/** The part of a session's digest its keys carry (KEY_DIGEST_LENGTH), and its member in the user's index. */
export function keyDigest(ref: SessionRef): string {
  return ref.digest.slice(0, KEY_DIGEST_LENGTH);
}

/** The Redis Store's key names (layout: redis-scripts.ts). Every key of a user carries the user's `{tag}`, so one slot. */
export class RedisKeys {
  constructor(private readonly prefix: string) {}

  session(ref: SessionRef): string {
    return this.sessionOf(ref.tag, keyDigest(ref));
  }

  /** The session an index member (a key digest) names. */
  sessionOf(tag: string, member: string): string {
    return `${this.sessionPrefix(tag)}${member}`;
  }

  /** What every session key under the tag starts with; scripts append index members to it. */
  sessionPrefix(tag: string): string {
    return `${this.prefix}{${tag}}:s:`;
  }

  /** A session lock (redis-lock-scripts.ts): under the session's {tag}, so in its slot. */
  lock(ref: SessionRef, name: string): string {
    return `${this.prefix}{${ref.tag}}:l:${ref.digest}:${name}`;
  }

  index(tag: string): string {
    return `${this.prefix}{${tag}}:u`;
  }

  /** The user's epoch (see REVOKED_BY_EPOCH in redis-user-scripts.ts). */
  epoch(tag: string): string {
    return `${this.prefix}{${tag}}:g`;
  }
}
