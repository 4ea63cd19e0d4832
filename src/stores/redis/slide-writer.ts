import type { Redis } from 'ioredis';
import type { TouchPolicy } from '../../core/session-store.js';
import { boundedOperation } from '../../core/bounded-operation.js';
import { SLIDE, slideArguments } from './redis-scripts.js';

interface PendingSlide {
  epochKey: string;
  /** The latest read the slide stands for: Redis slides to its time. */
  touch: TouchPolicy;
  /** When the slide first became due (touch.now of that read); kept across failed flushes. */
  dueSince: number;
}

/**
 * Write-behind of the idle-expiry slides of reads the near cache served: they are collected and
 * sent every `intervalMs` as one pipeline of SLIDE scripts (each as careful as a read: never
 * shorter, never past the absolute deadline, nothing for a session that is gone or revoked).
 * A slide that does not reach Redis (the flush failed, or its script did) is queued again with
 * the time it first became due; one due for `touchIntervalMs` is not accepted again: the read
 * goes to Redis, which slides it itself, so no slide is ever later than `touchInterval`.
 */
export class SlideWriter {
  private pending = new Map<string, PendingSlide>();
  /** The batch on its way to Redis: until it is through, its slides are still owed and still count as due. */
  private flying = new Map<string, PendingSlide>();
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly client: Redis,
    intervalMs: number,
    private readonly operationTimeoutMs: number,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Takes the slide of a read served from memory; false when it must be done in Redis now. */
  accept(key: string, epochKey: string, touch: TouchPolicy): boolean {
    const owed = this.pending.get(key);
    const dueSince = Math.min(owed?.dueSince ?? touch.now, this.flying.get(key)?.dueSince ?? touch.now);
    if (touch.now - dueSince >= touch.touchIntervalMs) return false;
    if (owed) owed.touch = touch;
    else this.pending.set(key, { epochKey, touch, dueSince: touch.now });
    return true;
  }

  /** Sends what is pending, one flush at a time (a slow one is not overtaken by the next tick). */
  flush(): Promise<void> {
    this.flushing ??= this.send().finally(() => (this.flushing = null));
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }

  /**
   * One pipeline with every pending slide. What does not get through stays owed: dropping it
   * would let the next read start a new dueSince and be served from memory while Redis never
   * sees a slide.
   */
  private async send(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = (this.flying = this.pending);
    this.pending = new Map();
    // The scripts cut the TTL at this time, not the read's: the key must not outlive the deadline by the wait for the flush.
    const flushedAt = Date.now();
    const pipeline = this.client.pipeline();
    const queue = pipeline as unknown as Record<string, (...args: Array<string | number>) => unknown>;
    for (const [key, slide] of batch) queue[SLIDE.name].call(pipeline, key, slide.epochKey, ...slideArguments(slide.touch, flushedAt));
    let results: Array<[Error | null, unknown]> | null = null;
    try {
      results = await boundedOperation('touch', pipeline.exec(), this.operationTimeoutMs);
    } catch {
      // Redis unreachable or slow: every slide of the batch is still owed.
    }
    let index = 0;
    for (const [key, slide] of batch) {
      const reply = results?.[index++];
      if (!reply || reply[0] !== null) this.requeue(key, slide, flushedAt);
    }
    this.flying = new Map();
  }

  private requeue(key: string, slide: PendingSlide, flushedAt: number): void {
    // Past the read's idle window a slide can no longer keep anything alive: the cached entry is not served past it either.
    if (flushedAt >= slide.touch.now + slide.touch.idleTimeoutMs) return;
    const newer = this.pending.get(key);
    if (!newer) this.pending.set(key, slide);
    else newer.dueSince = Math.min(newer.dueSince, slide.dueSince);
  }
}
