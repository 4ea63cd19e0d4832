/**
 * Deletes expired rows of the store's tables on an interval, off the request path. One instance
 * at a time: a run first takes a session-level advisory lock with pg_try_advisory_lock and skips
 * when another instance holds it. Small batches, so no run holds many row locks or a long
 * statement; a run stops after MAX_BATCHES per table and the next one goes on.
 */
import type { PostgresPool } from '../../core/store-options.js';
import { checkOut } from './postgres-connection.js';
import { DATABASE_NOW } from './postgres-statements.js';
import type { PostgresTables } from './postgres-tables.js';

const BATCH_SIZE = 500;
const MAX_BATCHES = 20;

export class PostgresSweeper {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private readonly batches: Array<{ text: string; now: () => number | null }>;

  constructor(
    private readonly pool: PostgresPool,
    private readonly tables: PostgresTables,
    intervalMs: number,
  ) {
    const batch = (table: string, key: string, expired: string) =>
      `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${expired} LIMIT ${BATCH_SIZE})`;
    this.batches = [
      // Sessions by the app's clock, as every read judges them; the idle deadline is never past the absolute one.
      { text: batch(tables.sessions, 'digest', 'expires_at <= $1::bigint'), now: () => Date.now() },
      { text: batch(tables.locks, '(session_digest, name)', `expires_at <= ${DATABASE_NOW}`), now: () => null },
      { text: batch(tables.nonces, 'key', `expires_at <= ${DATABASE_NOW}`), now: () => null },
      // rate-limiter-flexible's expire is its own (app) clock, in ms.
      { text: batch(tables.throttle, 'key', 'expire <= $1::bigint'), now: () => Date.now() },
    ];
    this.timer = setInterval(() => void this.sweep(), intervalMs);
    this.timer.unref();
  }

  /** One run now (also what the interval does); resolves when it is over, never rejects. */
  sweep(): Promise<void> {
    this.running ??= this.sweepOnce()
      .catch(() => undefined) // The database away: the next interval tries again.
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** Stops the interval and waits for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async sweepOnce(): Promise<void> {
    const client = await checkOut(this.pool);
    let broken: Error | undefined;
    try {
      const key = `nestjs-session-auth sweeper ${this.tables.sessions}`;
      const { rows } = await client.query('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS taken', [key]);
      if (rows[0]?.taken !== true) return;
      try {
        for (const { text, now } of this.batches) {
          for (let batch = 0; batch < MAX_BATCHES; batch++) {
            const at = now();
            const { rowCount } = await client.query(text, at === null ? [] : [at]);
            if ((rowCount ?? 0) < BATCH_SIZE) break;
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
      }
    } catch (error) {
      broken = error as Error;
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
