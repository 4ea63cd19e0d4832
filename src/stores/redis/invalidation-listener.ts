import type { Redis } from 'ioredis';
import { randomToken } from '../../core/session-token.js';

/** Redis' channel for invalidation messages redirected to a RESP2 connection. */
const INVALIDATE_CHANNEL = '__redis__:invalidate';
/** The longest wait before a failed registration is tried again; the first is one heartbeat, doubled each time. */
const MAX_RETRY_DELAY_MS = 10_000;

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
  /** Redis refused tracking for good (the reply, e.g. NOPERM): nothing is served from memory; reported once. */
  onRefused(reason: string): void;
}

/**
 * A reply that says this Redis will never track for us (an ACL without CLIENT TRACKING, Redis
 * before 6, a managed service that does not offer it): retrying cannot help.
 */
function isRefusal(error: unknown): error is Error {
  if (!(error instanceof Error) || error.name !== 'ReplyError') return false;
  // The subscriber reconnected between its CLIENT ID and this registration: the next one uses the new id.
  if (/redirect/i.test(error.message)) return false;
  return /^(ERR|NOPERM)\b/.test(error.message) || /unknown (sub)?command/i.test(error.message);
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
 * `onLost` at once. Heartbeat times are monotonic (performance.now()): a wall-clock step back
 * must not keep a stalled channel "fresh".
 *
 * A registration Redis refuses (see isRefusal) is not retried: both connections close, nothing
 * is ever fresh, and `onRefused` reports it. Other failures are retried after a delay that
 * doubles up to MAX_RETRY_DELAY_MS, never in a tight reconnect loop.
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
  private refused = false;
  private retryDelayMs: number;
  private readonly retries = new Set<NodeJS.Timeout>();

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
    this.retryDelayMs = timing.heartbeatIntervalMs;
  }

  /** Whether what is cached now may be served: the channel works and was proven so at most `maxLagMs` ago. */
  isFresh(now = performance.now()): boolean {
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
    this.retries.forEach(clearTimeout);
    this.lose();
    // An ended connection (after a refusal) is left alone: disconnecting it again arms a timer for a socket already closed.
    const open = [this.subscriber, this.tracker].filter((connection) => connection.status !== 'end');
    await Promise.all(open.map((connection) => connection.quit().catch(() => connection.disconnect())));
  }

  private async subscribe(): Promise<void> {
    try {
      // In RESP2 a subscribed connection takes no other commands: its id is asked first.
      const id = Number(await this.subscriber.client('ID'));
      await this.subscriber.subscribe(INVALIDATE_CHANNEL);
      this.subscriberId = id;
      await this.track();
    } catch (error) {
      // A fresh connection is the only clean state to subscribe from again.
      this.fail(error, () => {
        if (this.subscriberId === null) this.subscriber.disconnect(true);
      });
    }
  }

  /** (Re-)points tracking at the current subscriber. Until a heartbeat sent afterwards is back, nothing is fresh. */
  private async track(): Promise<void> {
    const id = this.subscriberId;
    if (id === null || this.tracker.status !== 'ready' || this.closed || this.refused) return;
    this.tracking = false;
    this.lose();
    const registration = ++this.registration;
    try {
      // Turning tracking on again with other options needs it off first.
      await this.tracker.client('TRACKING', 'OFF');
      await this.tracker.client('TRACKING', 'ON', 'REDIRECT', id, 'BCAST', 'PREFIX', this.prefix);
      if (registration === this.registration && id === this.subscriberId) {
        this.tracking = true;
        this.retryDelayMs = this.timing.heartbeatIntervalMs;
      }
    } catch (error) {
      this.fail(error, () => void this.track());
    }
  }

  /** A refusal ends the near cache for good; anything else is retried later. */
  private fail(error: unknown, retry: () => void): void {
    if (this.closed || this.refused) return;
    if (isRefusal(error)) {
      this.refuse(error);
      return;
    }
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      if (!this.closed && !this.refused) retry();
    }, this.retryDelayMs);
    timer.unref();
    this.retries.add(timer);
    this.retryDelayMs = Math.min(2 * this.retryDelayMs, MAX_RETRY_DELAY_MS);
  }

  private refuse(error: Error): void {
    this.refused = true;
    this.tracking = false;
    clearInterval(this.timer);
    this.retries.forEach(clearTimeout);
    this.lose();
    // No reconnect: a new connection would be refused the same way.
    for (const connection of [this.subscriber, this.tracker]) connection.disconnect();
    this.events.onRefused(error.message);
  }

  private beat(): void {
    const now = performance.now();
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
