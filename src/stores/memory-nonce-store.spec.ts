import { SessionStoreUnavailableError } from '../core/errors.js';
import { MemoryNonceStore } from './memory-nonce-store.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('MemoryNonceStore', () => {
  it('answers true for a new nonce and false for it again inside its TTL, per scope', async () => {
    const store = new MemoryNonceStore();
    await expect(store.rememberNonce('kid1', 'n1', 60_000)).resolves.toBe(true);
    await expect(store.rememberNonce('kid1', 'n1', 60_000)).resolves.toBe(false);
    await expect(store.rememberNonce('kid2', 'n1', 60_000)).resolves.toBe(true);
  });

  it('forgets a nonce once its TTL has passed', async () => {
    const store = new MemoryNonceStore();
    await store.rememberNonce('kid1', 'n1', 5);
    await sleep(20);
    await expect(store.rememberNonce('kid1', 'n1', 60_000)).resolves.toBe(true);
  });

  it('refuses with SessionStoreUnavailableError when full of live nonces, rather than forget one', async () => {
    const store = new MemoryNonceStore({ maxNonces: 2 });
    await store.rememberNonce('kid1', 'a', 60_000);
    await store.rememberNonce('kid1', 'b', 60_000);
    await expect(store.rememberNonce('kid1', 'c', 60_000)).rejects.toThrow(SessionStoreUnavailableError);
    await expect(store.rememberNonce('kid1', 'a', 60_000)).resolves.toBe(false);
  });

  it('makes room by dropping expired nonces, even behind a live one', async () => {
    const store = new MemoryNonceStore({ maxNonces: 2 });
    await store.rememberNonce('kid1', 'live', 60_000);
    await store.rememberNonce('kid1', 'short', 5);
    await sleep(20);
    await expect(store.rememberNonce('kid1', 'new', 60_000)).resolves.toBe(true);
  });
});
