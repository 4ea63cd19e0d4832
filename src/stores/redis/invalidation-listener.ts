import type { Redis } from 'ioredis';
import { randomToken } from '../../core/session-token.js';

/** Redis' channel for invalidation messages redirected to a RESP2 connection. */
const INVALIDATE_CHANNEL = '__redis__:invalidate';

export interface InvalidationTiming {
  heartbeatIntervalMs: number;
  /** A heartbeat not back within this long, or none received for this long: the channel counts as broken. */
  maxLagMs: number;
}

export interface InvalidationEvents {
  /** Keys written, deleted, expired or evicted under the prefix; null: all of them (FLUSHDB, FLUSHALL). */
  onInvalidate(keys: string[] | null): void;
  /** The channel broke: whatever was cached may have missed invalidations. */
  onLost(): void;
}

/**
 * Redis server-assisted client-side caching in broadcast mode, over RESP2: a subscriber
 * connection listens on `__redis__:invalidate`, and a second connection turns on
 * `CLIENT TRACKING ON REDIRECT <subscriber id> BCAST PREFIX <prefix>`, so every write to a key
 * under the prefix, from any client, is announced to the subscriber (writes from this process
 * too: nothing is filtered out). Both connections are duplicates of the store's client.
 *
 * Fails closed: freshness is proven, not assumed. A heartbeat key under the prefix is written
 * through the tracking connection every `heartbeatIntervalMs`; its invalidation comes back on the
 * subscriber after every invalidation of a write Redis made before it. So once the heartbeat sent
 * at T is back, nothing written before T is left unannounced, and `isFresh(now)` holds while T is
 * at most `maxLagMs` old. A dropped connection, a re-registration or a late heartbeat reports
 * `onLost` at once.
 */
export class InvalidationListener {
  private readonly subscriber: Redis;
  private readonly tracker: Redis;
  private readonly heartbeatPrefix: string;
  private subscriberId: number | null = null;
  private tracking = false;
  /** Registrations are numbered: a heartbeat counts only for the registration it was sent under. */
  private registration = 0;
  private outstanding: { key: string; sentAt: number; registration: number } | null = null;
  private sequence = 0;
  /** Send time of the latest heartbeat that came back: everything written before it has been announced. */
  private freshAsOf = Number.NEGATIVE_INFINITY;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    client: Redis,
    private readonly prefix: string,
    private readonly timing: InvalidationTiming,
    private readonly events: InvalidationEvents,
  ) {
    this.heartbeatPrefix = `${prefix}nc:${randomToken(6)}:`;
    this.subscriber = client.duplicate({ autoResubscribe: false, connectionName: 'session-auth-invalidation', maxRetriesPerRequest: 1 });
    this.tracker = client.duplicate({ connectionName: 'session-auth-tracking', maxRetriesPerRequest: 1 });
    for (const connection of [this.subscriber, this.tracker]) {
      // Connection errors are handled as losses below; without a listener ioredis reports them as unhandled.
      connection.on('error', () => undefined);
      connection.on('close', () => this.lose());
    }
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer[] | null) => {
      if (String(channel) === INVALIDATE_CHANNEL) this.receive(message);
    });
    this.subscriber.on('ready', () => void this.subscribe());
    this.tracker.on('ready', () => void this.track());
    this.timer = setInterval(() => this.beat(), timing.heartbeatIntervalMs);
    this.timer.unref();
  }

  /** Whether what is cached now may be served: the channel works and was proven so at most `maxLagMs` ago. */
  isFresh(now = Date.now()): boolean {
    // Proven fresh once, not since: the cache goes now, not at the next heartbeat tick.
    if (this.freshAsOf !== Number.NEGATIVE_INFINITY && now - this.freshAsOf > this.timing.maxLagMs) this.lose();
    return this.tracking && now - this.freshAsOf <= this.timing.maxLagMs;
  }

  /** The subscriber connection's id (CLIENT ID), null while it is not subscribed. */
  get invalidationClientId(): number | null {
    return this.subscriberId;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.lose();
    await Promise.all([this.subscriber, this.tracker].map((connection) => connection.quit().catch(() => connection.disconnect())));
  }

  private async subscribe(): Promise<void> {
    try {
      // In RESP2 a subscribed connection takes no other commands: its id is asked first.
      const id = Number(await this.subscriber.client('ID'));
      await this.subscriber.subscribe(INVALIDATE_CHANNEL);
      this.subscriberId = id;
      await this.track();
    } catch {
      this.subscriber.disconnect(true);
    }
  }

  /** (Re-)points tracking at the current subscriber. Until a heartbeat sent afterwards is back, nothing is fresh. */
  private async track(): Promise<void> {
    const id = this.subscriberId;
    if (id === null || this.tracker.status !== 'ready' || this.closed) return;
    this.tracking = false;
    this.lose();
    const registration = ++this.registration;
    try {
      // Turning tracking on again with other options needs it off first.
      await this.tracker.client('TRACKING', 'OFF');
      await this.tracker.client('TRACKING', 'ON', 'REDIRECT', id, 'BCAST', 'PREFIX', this.prefix);
      if (registration === this.registration && id === this.subscriberId) this.tracking = true;
    } catch {
      this.tracker.disconnect(true);
    }
  }

  private beat(): void {
    const now = Date.now();
    if (this.outstanding && now - this.outstanding.sentAt > this.timing.maxLagMs) this.lose();
    this.isFresh(now);
    if (!this.tracking || this.outstanding) return;
    const heartbeat = { key: `${this.heartbeatPrefix}${++this.sequence}`, sentAt: now, registration: this.registration };
    this.outstanding = heartbeat;
    this.tracker.set(heartbeat.key, '1', 'PX', Math.max(1000, this.timing.maxLagMs)).catch(() => this.lose());
  }

  private receive(message: Buffer[] | null): void {
    if (message === null) {
      this.events.onInvalidate(null);
      return;
    }
    const keys: string[] = [];
    let heartbeatBack = false;
    for (const raw of message) {
      const key = String(raw);
      if (this.outstanding && key === this.outstanding.key) heartbeatBack = true;
      else if (!key.startsWith(`${this.prefix}nc:`)) keys.push(key);
    }
    if (keys.length > 0) this.events.onInvalidate(keys);
    if (heartbeatBack && this.outstanding && this.outstanding.registration === this.registration && this.tracking) {
      this.freshAsOf = this.outstanding.sentAt;
      this.outstanding = null;
    }
  }

  /** Whatever was cached may have missed an invalidation: it goes, and nothing is fresh until a new heartbeat is back. */
  private lose(): void {
    if (this.subscriber.status !== 'ready') this.subscriberId = null;
    if (this.tracker.status !== 'ready' || this.subscriberId === null) this.tracking = false;
    this.outstanding = null;
    this.freshAsOf = Number.NEGATIVE_INFINITY;
    this.events.onLost();
  }
}
