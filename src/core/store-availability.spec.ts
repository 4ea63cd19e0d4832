import { boundedOperation } from './bounded-operation.js';
import { SessionStoreUnavailableError } from './errors.js';
import { StoreAvailability, withAvailabilityTracking } from './store-availability.js';

function tracker() {
  const lines: string[] = [];
  const availability = new StoreAvailability({ unavailable: (reason) => lines.push(`down: ${reason}`), recovered: () => lines.push('up') });
  return { lines, availability };
}

const unavailable = () => Promise.reject(new SessionStoreUnavailableError('read', new Error('connection lost')));

describe('StoreAvailability', () => {
  it('reports an outage once, however many operations fail, and the recovery once', async () => {
    const { lines, availability } = tracker();
    await availability.track(Promise.resolve(1));
    for (let i = 0; i < 5; i++) await expect(availability.track(unavailable())).rejects.toThrow(SessionStoreUnavailableError);
    for (let i = 0; i < 3; i++) await availability.track(Promise.resolve(i));
    await expect(availability.track(unavailable())).rejects.toThrow(SessionStoreUnavailableError);
    expect(lines).toEqual([expect.stringMatching(/^down: .*connection lost/), 'up', expect.stringMatching(/^down:/)]);
  });

  it('hands results and errors on unchanged, and ignores errors that are not the store failing', async () => {
    const { lines, availability } = tracker();
    await expect(availability.track(Promise.resolve('value'))).resolves.toBe('value');
    const other = new TypeError('bad input');
    await expect(availability.track(Promise.reject(other))).rejects.toBe(other);
    expect(lines).toEqual([]);
  });
});

describe('withAvailabilityTracking', () => {
  class FakeStore {
    readonly client = { name: 'client' };
    calls = 0;
    async read(): Promise<string> {
      this.calls++;
      return 'record';
    }
    async destroy(): Promise<void> {
      throw new SessionStoreUnavailableError('destroy', new Error('timeout'));
    }
    describe(): string {
      return 'sync';
    }
  }

  it('keeps the store what it is: instanceof, own members, results and this', async () => {
    const { lines, availability } = tracker();
    const inner = new FakeStore();
    const store = withAvailabilityTracking(inner, availability);
    expect(store).toBeInstanceOf(FakeStore);
    expect(store.client).toBe(inner.client);
    expect(store.describe()).toBe('sync');
    await expect(store.read()).resolves.toBe('record');
    expect(inner.calls).toBe(1);
    expect(store.read).toBe(store.read); // wrapped once, not per access
    await expect(store.destroy()).rejects.toThrow(SessionStoreUnavailableError);
    await store.read();
    expect(lines).toEqual([expect.stringMatching(/^down:/), 'up']);
  });
});

describe('boundedOperation', () => {
  it('rejects with SessionStoreUnavailableError once the bound has passed, and swallows the late rejection', async () => {
    let rejectLate!: (error: Error) => void;
    const never = new Promise<never>((_, reject) => (rejectLate = reject));
    const started = Date.now();
    await expect(boundedOperation('read', never, 50)).rejects.toThrow(/Session store unavailable during read: no answer within 50 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    rejectLate(new Error('late')); // must not become an unhandled rejection
  });

  it('passes a result through, and turns any failure into SessionStoreUnavailableError', async () => {
    await expect(boundedOperation('read', Promise.resolve(7), 1_000)).resolves.toBe(7);
    await expect(boundedOperation('read', Promise.reject(new Error('ECONNRESET')), 1_000)).rejects.toThrow(SessionStoreUnavailableError);
    const already = new SessionStoreUnavailableError('read');
    await expect(boundedOperation('other', Promise.reject(already), 1_000)).rejects.toBe(already);
  });
});
