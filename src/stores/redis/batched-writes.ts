import type { Writable } from 'node:stream';
import type { Cluster, Redis } from 'ioredis';

/**
 * The real setImmediate, taken when this module loads: a test that fakes timers afterwards
 * (jest, sinon) must not leave every command in the socket's buffer.
 */
const endOfTurn = setImmediate;
/** Past this many held commands the batch leaves at once: a long turn does not hold early reads for all of it. */
const MAX_HELD_COMMANDS = 64;

/**
 * Holds the commands a Redis connection is sent during one event-loop turn and writes them
 * together when the turn ends: under load, the requests handled in one turn each send their
 * session read, and one socket write for all of them costs a fraction of one write each (the
 * write was a fifth of a guarded request's CPU on Redis). ioredis's own auto-pipelining does
 * the same by building a Pipeline per batch, which costs more than it saves.
 *
 * Only the socket's buffering changes (Writable cork/uncork): commands keep their order and
 * ioredis its queue, reconnects and errors. A connection that is not ready is left alone, so a
 * command that ioredis queues offline is never held. Cluster clients (a socket per node) are
 * not batched.
 */
export class BatchedWrites {
  private held: Writable | null = null;
  private count = 0;

  constructor(private readonly client: Redis | Cluster) {}

  /** Call right before a command is sent. */
  hold(): void {
    if (this.held !== null) {
      if (++this.count >= MAX_HELD_COMMANDS) this.release();
      return;
    }
    if ((this.client as Cluster).isCluster || this.client.status !== 'ready') return;
    const stream = (this.client as Redis).stream as Writable | undefined;
    if (stream === undefined || stream.destroyed) return;
    stream.cork();
    this.held = stream;
    this.count = 1;
    endOfTurn(this.release);
  }

  /** Writes what is held now (at the end of the turn, or early when the batch is full; then the turn's call finds nothing). */
  private readonly release = (): void => {
    const stream = this.held;
    this.held = null;
    stream?.uncork();
  };
}
