import type { Cluster, Redis } from 'ioredis';
import { boundedOperation } from '../../core/bounded-operation.js';
import { parseSessionEndNotice, type SessionEndChannel, type SessionEndListener, type SessionEndNotice } from '../../core/session-end-channel.js';
import { closeOwnedClient } from './redis-connection.js';

/**
 * Session-end notices over Redis pub/sub on `<keyPrefix>session-end`, so every app instance on
 * the same Redis hears them. Publishing uses the store's client; receiving needs a connection
 * of its own (a subscribed connection can do nothing else), duplicated from it on the first
 * subscribe, so apps without sockets open none. Notices are delivered to this instance's own
 * listeners at once too, so its sockets do not wait for the round trip through Redis.
 */
export class RedisSessionEndChannel implements SessionEndChannel {
  private readonly listeners = new Set<SessionEndListener>();
  private subscriber: Redis | Cluster | null = null;
  private subscribed: Promise<void> | null = null;
  private readonly channel: string;

  constructor(
    private readonly client: Redis | Cluster,
    keyPrefix: string,
    private readonly operationTimeoutMs: number,
    private readonly onWarning: (message: string) => void,
  ) {
    this.channel = `${keyPrefix}session-end`;
  }

  publish(notice: SessionEndNotice): void {
    this.deliver(notice);
    // Fire and forget: a logout has already succeeded; a lost notice only delays the closes
    // (sockets are checked at each message and at their session's deadline anyway).
    this.client.publish(this.channel, JSON.stringify(notice)).catch((error: unknown) => {
      this.onWarning(`Could not publish a session-end notice: ${(error as Error).message}`);
    });
  }

  subscribe(listener: SessionEndListener): Promise<void> {
    this.listeners.add(listener);
    this.subscribed ??= this.start().catch((error: unknown) => {
      this.subscribed = null; // the next socket tries again
      throw error;
    });
    return this.subscribed;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    const subscriber = this.subscriber;
    this.subscriber = null;
    this.subscribed = null;
    if (subscriber) await closeOwnedClient(subscriber);
  }

  private async start(): Promise<void> {
    const subscriber = (this.subscriber ??= this.client.duplicate());
    subscriber.on('error', () => undefined); // reported by the bounded subscribe below
    subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.channel) return;
      const notice = parseSessionEndNotice(text);
      if (notice) this.deliver(notice);
    });
    await boundedOperation('subscribe', subscriber.subscribe(this.channel), this.operationTimeoutMs);
  }

  private deliver(notice: SessionEndNotice): void {
    for (const listener of this.listeners) listener(notice);
  }
}
