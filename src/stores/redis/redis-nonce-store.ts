import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { SessionStoreUnavailableError } from '../../core/errors.js';
import type { NonceStore } from '../../core/nonce-store.js';
import type { RedisSessionStore } from './redis-session-store.js';

export interface RedisNonceStoreOptions {
  client: Redis | Cluster;
  /** Default: `'sess:'`; nonces live under `<keyPrefix>nonce:<scope>:<sha256 of the nonce>`. */
  keyPrefix?: string;
  /** Longest a Redis call may take before the request gets 503. Default: 2000. */
  operationTimeoutMs?: number;
}

/**
 * Nonces in Redis: one `SET key 1 PX ttl NX` per request, atomic on a single key, so of many
 * concurrent requests with one nonce exactly one is told it is new, on a single Redis or a Cluster.
 */
export class RedisNonceStore implements NonceStore {
  private readonly client: Redis | Cluster;
  private readonly keyPrefix: string;
  private readonly operationTimeoutMs: number;

  constructor(options: RedisNonceStoreOptions) {
    this.client = options.client;
    this.keyPrefix = options.keyPrefix ?? 'sess:';
    this.operationTimeoutMs = options.operationTimeoutMs ?? 2_000;
  }

  /** Over a RedisSessionStore's connection and key prefix; the connection stays the session store's. */
  static over(store: RedisSessionStore, operationTimeoutMs?: number): RedisNonceStore {
    return new RedisNonceStore({ client: store.client, keyPrefix: store.keyPrefix, operationTimeoutMs });
  }

  async rememberNonce(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    // The nonce is hashed so a client cannot choose key length or smuggle a Cluster hash tag into it.
    const key = `${this.keyPrefix}nonce:${scope}:${createHash('sha256').update(nonce).digest('base64url')}`;
    const answer = await this.bounded(this.client.set(key, '1', 'PX', Math.ceil(ttlMs), 'NX'));
    return answer === 'OK';
  }

  private async bounded<T>(pending: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.operationTimeoutMs} ms`)), this.operationTimeoutMs);
    });
    try {
      return await Promise.race([pending, timeout]);
    } catch (error) {
      throw new SessionStoreUnavailableError('rememberNonce', error);
    } finally {
      clearTimeout(timer);
    }
  }
}
