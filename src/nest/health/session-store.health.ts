import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { boundedOperation } from '../../core/bounded-operation.js';
import { SessionAuthError } from '../../core/errors.js';
import { SessionStore } from '../../core/session-store.js';
import { newSessionToken, randomSlotTag, refOf } from '../../core/session-token.js';

/** An optional peer: named in a variable so that neither build resolves it at compile time. */
const TERMINUS_PACKAGE = '@nestjs/terminus';

/** How long a health check waits for the store by default: well inside a probe's usual 1 s. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 500;

/** A result in the shape of `@nestjs/terminus`' HealthIndicatorResult, without depending on its types. */
export type SessionStoreHealth<Key extends string> = Record<Key, { status: 'up' | 'down'; [detail: string]: unknown }>;

interface IndicatorSession {
  up(data?: Record<string, unknown>): unknown;
  down(data?: Record<string, unknown>): unknown;
}
interface HealthIndicatorServiceLike {
  check(key: string): IndicatorSession;
}

export interface SessionStoreHealthOptions {
  /** The longest the store may take to answer before it counts as down. Default: 500 ms. */
  timeoutMs?: number;
}

/**
 * A `@nestjs/terminus` health indicator (terminus 11 and 12, through HealthIndicatorService): the
 * session store is up when it answers a ping within the bound, down otherwise, and the check
 * never waits longer than the bound. Stores without `ping` are asked for a session that does not
 * exist instead: one read, the same round trip.
 *
 * `@Inject(SessionStoreHealthIndicator)` in a controller of the app, next to `HealthCheckService`.
 */
@Injectable()
export class SessionStoreHealthIndicator {
  private service: Promise<HealthIndicatorServiceLike> | undefined;

  constructor(
    @Inject(SessionStore) private readonly store: SessionStore,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  async isHealthy<const Key extends string = 'session-store'>(
    key: Key = 'session-store' as Key,
    options: SessionStoreHealthOptions = {},
  ): Promise<SessionStoreHealth<Key>> {
    const indicator = (await (this.service ??= this.findService())).check(key);
    const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
    try {
      await boundedOperation('ping', this.ping(), timeoutMs);
      return indicator.up() as SessionStoreHealth<Key>;
    } catch (error) {
      return indicator.down({ message: (error as Error).message }) as SessionStoreHealth<Key>;
    }
  }

  private ping(): Promise<unknown> {
    if (typeof this.store.ping === 'function') return this.store.ping();
    const missing = refOf(newSessionToken(randomSlotTag()));
    return this.store.read(missing, { now: Date.now(), idleTimeoutMs: 1, touchIntervalMs: 1 });
  }

  /** Terminus' service from the app (TerminusModule), or one of our own when the module is not imported. */
  private async findService(): Promise<HealthIndicatorServiceLike> {
    let token: (new () => HealthIndicatorServiceLike) | undefined;
    try {
      token = ((await import(TERMINUS_PACKAGE)) as { HealthIndicatorService?: new () => HealthIndicatorServiceLike }).HealthIndicatorService;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'function') {
      this.service = undefined;
      throw new SessionAuthError(
        'SessionStoreHealthIndicator needs @nestjs/terminus 11 or later, which could not be loaded: ' +
          'install it (`npm install @nestjs/terminus`) and import TerminusModule.',
      );
    }
    try {
      return this.moduleRef.get(token, { strict: false });
    } catch {
      return new token();
    }
  }
}
