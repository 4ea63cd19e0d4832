import { SessionStoreUnavailableError } from './errors.js';

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
export class StoreAvailability {
  private down = false;

  constructor(private readonly log: StoreAvailabilityLog) {}

  /** Reports the outcome of a store operation and hands it on unchanged. */
  track<T>(pending: Promise<T>): Promise<T> {
    return pending.then(
      (value) => {
        this.succeeded();
        return value;
      },
      (error: unknown) => {
        if (error instanceof SessionStoreUnavailableError) this.failed(error);
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

/**
 * The store with every operation's outcome reported to `availability`. A Proxy rather than a
 * wrapper class, so that the store stays what it is to its callers: `instanceof`, its own
 * members (a Redis store's `client`) and any optional capability keep working, including
 * methods added to the contract later. Only methods that return a promise are tracked; each is
 * wrapped once, so a call costs one extra `then`.
 */
export function withAvailabilityTracking<S extends object>(store: S, availability: StoreAvailability): S {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function' || property === 'constructor') return value;
      let method = wrapped.get(property);
      if (method === undefined) {
        method = (...args: unknown[]) => {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          return result instanceof Promise ? availability.track(result) : result;
        };
        wrapped.set(property, method);
      }
      return method;
    },
  });
}
