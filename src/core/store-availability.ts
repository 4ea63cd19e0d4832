import { SessionStoreUnavailableError } from './errors.js';
import type { StoreObserver, StoreOperationEnd } from './observed-session-store.js';

/** Where the availability tracker reports the two transitions. */
export interface StoreAvailabilityLog {
  unavailable(reason: string): void;
  recovered(): void;
}

/**
 * Whether the session store (and the login counters next to it) currently answers, fed by the
 * outcome of every store operation. It reports the change, not the requests: one line when an
 * outage starts (with its reason), one when the store answers again, however many requests
 * fail in between (ASVS 16: logs that an operator can read during an outage).
 */
export class StoreAvailability implements StoreObserver {
  private down = false;

  constructor(private readonly log: StoreAvailabilityLog) {}

  /** As an observer of the module's store operations (ObservedSessionStore): one closure for all of them. */
  start(): StoreOperationEnd {
    return this.settled;
  }

  private readonly settled: StoreOperationEnd = (error) => {
    if (error === undefined) this.succeeded();
    else if (error instanceof SessionStoreUnavailableError) this.failed(error);
  };

  /** Reports the outcome of a store operation and hands it on unchanged. */
  track<T>(pending: Promise<T>): Promise<T> {
    return pending.then(
      (value) => {
        this.settled(undefined);
        return value;
      },
      (error: unknown) => {
        this.settled(error);
        throw error;
      },
    );
  }

  failed(error: SessionStoreUnavailableError): void {
    if (this.down) return;
    this.down = true;
    this.log.unavailable(error.message);
  }

  succeeded(): void {
    if (!this.down) return;
    this.down = false;
    this.log.recovered();
  }
}
