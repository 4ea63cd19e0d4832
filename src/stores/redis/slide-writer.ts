import type { Redis } from 'ioredis';
import type { TouchPolicy } from '../../core/session-store.js';
import { boundedOperation } from '../../core/bounded-operation.js';
import { SLIDE, touchArguments } from './redis-scripts.js';

interface PendingSlide {
  epochKey: string;
  /** The latest read the slide stands for: Redis slides to its time. */
  touch: TouchPolicy;
  /** When the slide first became due (touch.now of that read). */
  dueSince: number;
}

/**
 * Write-behind of the idle-expiry slides of reads the near cache served: they are collected and
 * sent every `intervalMs` as one pipeline of SLIDE scripts (each as careful as a read: never
 * shorter, never past the absolute deadline, nothing for a session that is gone or revoked).
 * A slide due for `touchIntervalMs` that has not reached Redis yet (a failed or slow flush) is
 * not accepted again: the read goes to Redis, which slides it itself, so no slide is ever later
 * than `touchInterval`.
 */
export class SlideWriter {
  private pending = new Map<string, PendingSlide>();
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
    const slide = this.pending.get(key);
    if (!slide) {
      this.pending.set(key, { epochKey, touch, dueSince: touch.now });
      return true;
    }
    if (touch.now - slide.dueSince >= touch.touchIntervalMs) return false;
    slide.touch = touch;
    return true;
  }

  /** A session whose state changed: a slide pending for it would stand for a read of what is gone. */
  forget(key: string): void {
    this.pending.delete(key);
  }

  /** One pipeline with every pending slide. A failure drops them: the next reads go to Redis. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const pipeline = this.client.pipeline();
    const queue = pipeline as unknown as Record<string, (...args: Array<string | number>) => unknown>;
    for (const [key, slide] of batch) queue[SLIDE.name].call(pipeline, key, slide.epochKey, ...touchArguments(slide.touch));
    try {
      await boundedOperation('touch', pipeline.exec(), this.operationTimeoutMs);
    } catch {
      // Redis unreachable: the sessions' keys keep their expiry, which the cache never serves past.
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
