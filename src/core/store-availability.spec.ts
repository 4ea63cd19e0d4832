import { boundedOperation } from './bounded-operation.js';
import { SessionStoreUnavailableError } from './errors.js';
import { StoreAvailability } from './store-availability.js';
import { ObservedSessionStore } from './observed-session-store.js';
import { newSessionToken, randomSlotTag, refOf } from './session-token.js';
import { MemorySessionStore } from '../stores/memory-session-store.js';

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

describe('StoreAvailability as a store observer', () => {
  it('sees every operation of an ObservedSessionStore, and the store answers unchanged', async () => {
    const { lines, availability } = tracker();
    const inner = new MemorySessionStore();
    const store = new ObservedSessionStore(inner, availability);
    const ref = refOf(newSessionToken(randomSlotTag()));
    const touch = { now: Date.now(), idleTimeoutMs: 60_000, touchIntervalMs: 1_000, idleRule: 'last-seen' as const };
    await expect(store.read(ref, touch)).resolves.toBeNull();
    inner.read = () => Promise.reject(new SessionStoreUnavailableError('read', new Error('timeout')));
    await expect(store.read(ref, touch)).rejects.toThrow(SessionStoreUnavailableError);
    await expect(store.read(ref, touch)).rejects.toThrow(SessionStoreUnavailableError);
    const other = new TypeError('bad input');
    inner.read = () => Promise.reject(other);
    await expect(store.read(ref, touch)).rejects.toBe(other);
    delete (inner as { read?: unknown }).read;
    await expect(store.read(ref, touch)).resolves.toBeNull();
    expect(lines).toEqual([expect.stringMatching(/^down: .*timeout/), 'up']);
    await inner.close();
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
