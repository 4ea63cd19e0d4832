import { SessionLockLostError, SessionLockTimeoutError } from './errors.js';
import { SessionLock, type LockTiming } from './session-lock.js';
import { newSessionToken, randomSlotTag, refOf } from './session-token.js';
import { MemorySessionStore } from '../stores/memory-session-store.js';

/** Time that moves only when the lock loop sleeps, recording each wait; `onSleep` runs before the clock moves. */
function fakeTiming(random: () => number, onSleep: (ms: number, count: number) => void | Promise<void> = () => undefined) {
  let now = 1_000_000;
  const sleeps: number[] = [];
  const timing: LockTiming = {
    clock: () => now,
    random,
    sleep: async (ms) => {
      sleeps.push(ms);
      await onSleep(ms, sleeps.length);
      now += ms;
    },
  };
  return { timing, sleeps };
}

describe('SessionLock', () => {
  let store: MemorySessionStore;
  const ref = refOf(newSessionToken(randomSlotTag()));

  beforeEach(() => {
    store = new MemorySessionStore();
  });

  afterEach(async () => {
    await store.close();
  });

  it('takes a free lock at the first attempt, without waiting', async () => {
    const { timing, sleeps } = fakeTiming(() => 0.5);

    const held = await new SessionLock(store, timing).acquire(ref, 'cart');

    expect(sleeps).toEqual([]);
    expect(await store.acquireLock(ref, 'cart', 'someone-else', 1_000)).toBe(false);
    await held.release();
    expect(await store.acquireLock(ref, 'cart', 'someone-else', 1_000)).toBe(true);
  });

  it('retries with exponential, capped, jittered waits and gives up with SessionLockTimeoutError after waitMs', async () => {
    await store.acquireLock(ref, 'cart', 'holder', 60_000);
    const { timing, sleeps } = fakeTiming(() => 0.999);

    const attempt = new SessionLock(store, timing).acquire(ref, 'cart', { waitMs: 200 });

    await expect(attempt).rejects.toBeInstanceOf(SessionLockTimeoutError);
    await expect(attempt).rejects.toMatchObject({ lock: 'cart', waitedMs: 200 });
    expect(sleeps).toEqual([2, 4, 8, 16, 32, 50, 50, 38]);
  });

  it('draws each wait at random below its ceiling, so waiting requests do not retry in lockstep', async () => {
    await store.acquireLock(ref, 'cart', 'holder', 60_000);
    const draws = [0, 0.5, 0.25, 0.1];
    const { timing, sleeps } = fakeTiming(() => draws.shift() ?? 0.5);

    await expect(new SessionLock(store, timing).acquire(ref, 'cart', { waitMs: 40 })).rejects.toBeInstanceOf(SessionLockTimeoutError);

    expect(sleeps.slice(0, 4)).toEqual([1, 2, 2, 2]);
  });

  it('takes the lock as soon as its holder releases it while waiting', async () => {
    await store.acquireLock(ref, 'cart', 'holder', 60_000);
    const { timing, sleeps } = fakeTiming(
      () => 0.5,
      async (_ms, count) => {
        if (count === 3) await store.releaseLock(ref, 'cart', 'holder');
      },
    );

    const held = await new SessionLock(store, timing).acquire(ref, 'cart', { waitMs: 1_000 });

    expect(sleeps).toHaveLength(3);
    await held.renew();
  });

  it('a lease that ran out is lost: renew throws SessionLockLostError and release leaves the next holder alone', async () => {
    const held = await new SessionLock(store).acquire(ref, 'cart', { leaseMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await store.acquireLock(ref, 'cart', 'next', 60_000)).toBe(true);

    await expect(held.renew()).rejects.toBeInstanceOf(SessionLockLostError);
    await held.release();

    expect(await store.acquireLock(ref, 'cart', 'third', 60_000)).toBe(false);
  });
});
