/**
 * The store decorator behind metrics and spans changes nothing a store does: the shared
 * SessionStore contract suite passes through it (over the memory store, observed by the real
 * metrics observer), and it offers the optional capabilities exactly when the inner store has them.
 */
import { Registry } from 'prom-client';
import { ObservedSessionStore } from '../src/core/observed-session-store.js';
import { isLockable } from '../src/core/session-locks.js';
import type { SessionStore } from '../src/core/session-store.js';
import { MemorySessionStore } from '../src/stores/memory-session-store.js';
import { loadPromClient, SessionMetrics } from '../src/nest/metrics/session-metrics.js';
import { describeSessionStoreContract } from './support/session-store-contract.js';

describeSessionStoreContract('MemorySessionStore, observed by the metrics', async () => {
  const inner = new MemorySessionStore();
  const metrics = new SessionMetrics(await loadPromClient(), { registry: new Registry(), prefix: 'contract_' }, 60_000);
  return { store: new ObservedSessionStore(inner, metrics), cleanup: () => inner.close() };
});

describe('ObservedSessionStore capabilities', () => {
  const observer = { start: () => () => undefined };

  it('is lockable, pingable and closable when the inner store is', () => {
    const observed = new ObservedSessionStore(new MemorySessionStore(), observer);
    expect([isLockable(observed), typeof observed.ping, typeof observed.close]).toEqual([true, 'function', 'function']);
  });

  it('offers none of them when the inner store has none', () => {
    const memory = new MemorySessionStore();
    const bare: SessionStore = {
      read: (...args) => memory.read(...args),
      create: (...args) => memory.create(...args),
      update: (...args) => memory.update(...args),
      rename: (...args) => memory.rename(...args),
      rotateRefreshToken: (...args) => memory.rotateRefreshToken(...args),
      destroyByRefreshToken: (...args) => memory.destroyByRefreshToken(...args),
      destroy: (...args) => memory.destroy(...args),
      listByUser: (...args) => memory.listByUser(...args),
      destroyByHandle: (...args) => memory.destroyByHandle(...args),
      destroyByUser: (...args) => memory.destroyByUser(...args),
    };
    const observed = new ObservedSessionStore(bare, observer);
    expect([isLockable(observed), 'ping' in observed, 'close' in observed]).toEqual([false, false, false]);
    void memory.close();
  });
});
