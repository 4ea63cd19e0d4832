import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { isNonceStore, type NonceStore } from '../../core/nonce-store.js';
import { SessionStore } from '../../core/session-store.js';
import type { ResolvedSignedRequestOptions } from '../../core/signed-requests/signed-request-options.js';
import { MemoryNonceStore } from '../../stores/memory-nonce-store.js';
import { RedisNonceStore } from '../../stores/redis/redis-nonce-store.js';
import { RedisSessionStore } from '../../stores/redis/redis-session-store.js';
import { RESOLVED_SIGNED_REQUEST_OPTIONS } from './signed-request.constants.js';

const logger = new Logger('SignedRequestModule');

/**
 * The nonce store the guard uses, chosen once the app's providers exist: the `nonceStore`
 * option; else the SessionModule's store when there is one (its Redis, with SET NX PX, or the
 * store itself if it remembers nonces), found anywhere in the app, so neither module has to
 * import the other; else memory.
 */
@Injectable()
export class RequestNonceStore implements NonceStore, OnModuleInit {
  private store: NonceStore | undefined;

  constructor(
    @Inject(RESOLVED_SIGNED_REQUEST_OPTIONS) private readonly options: ResolvedSignedRequestOptions,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    this.store = this.options.nonceStore ?? this.fromSessionStore() ?? new MemoryNonceStore({ maxNonces: this.options.maxNonces });
    logger.debug(`Signed-request nonces kept in ${this.store.constructor.name}`);
  }

  rememberNonce(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    this.store ??= new MemoryNonceStore({ maxNonces: this.options.maxNonces });
    return this.store.rememberNonce(scope, nonce, ttlMs);
  }

  private fromSessionStore(): NonceStore | null {
    let sessions: unknown;
    try {
      sessions = this.moduleRef.get(SessionStore, { strict: false });
    } catch {
      return null; // no SessionModule in this app
    }
    if (sessions instanceof RedisSessionStore) return RedisNonceStore.over(sessions);
    return isNonceStore(sessions) ? sessions : null;
  }
}
