import { InvalidSessionDataError, InvalidSessionError, SessionConfigurationError } from './errors.js';
import type { Session } from './session.js';
import type { RequestFacts, ResponseSink } from './session-cookie.js';
import { SessionManager } from './session-manager.js';
import { resolveSessionOptions, type SessionModuleOptions } from './session-options.js';
import { refOf, SessionCookieCodec, UserSlotTags } from './session-token.js';
import { MemorySessionStore } from '../stores/memory-session-store.js';
import type { CreateResult, SessionPatch, SessionRecord, SessionStore, TouchPolicy } from './session-store.js';
import type { SessionRef } from './session-token.js';

const SECRET = 'manager-spec-secret-0123456789abcdef';
const slotTagOf = (userId: string) => new UserSlotTags([SECRET]).current(userId).tag;
const ALICE = { id: 'u-alice', roles: ['user'] };

/** Records what the manager writes to the response. */
class RecordingSink implements ResponseSink {
  readonly cookies: string[] = [];
  noStore = 0;
  setCookie(serialized: string): void {
    this.cookies.push(serialized);
  }
  preventCaching(): void {
    this.noStore++;
  }
  /** The `name=value` pair of the last cookie set. */
  get lastPair(): string {
    const last = this.cookies.at(-1);
    if (last === undefined) throw new Error('no cookie was set');
    return last.split(';')[0];
  }
}

/** A real store, with every call counted by method name. */
function counting(store: SessionStore): { store: SessionStore; calls: string[] } {
  const calls: string[] = [];
  const wrapped = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: wrapped, calls };
}

/** A store that never expires anything on its own, as a store with lazy expiry might behave. */
class LazyStore implements SessionStore {
  readonly records = new Map<string, SessionRecord>();
  async read(ref: SessionRef, _touch: TouchPolicy) {
    const record = this.records.get(ref.digest);
    return record ? { ...record, data: { ...record.data } } : null;
  }
  async create(ref: SessionRef, record: SessionRecord): Promise<CreateResult> {
    this.records.set(ref.digest, { ...record, data: { ...record.data } });
    return { outcome: 'created', evicted: [] };
  }
  async update(ref: SessionRef, patch: SessionPatch) {
    const record = this.records.get(ref.digest);
    if (!record) return false;
    for (const [key, value] of Object.entries(patch.data ?? {})) {
      if (value === null) delete record.data[key];
      else record.data[key] = value;
    }
    return true;
  }
  async rename(from: SessionRef, to: SessionRef) {
    const record = this.records.get(from.digest);
    if (!record) return false;
    this.records.delete(from.digest);
    this.records.set(to.digest, record);
    return true;
  }
  async destroy(ref: SessionRef) {
    this.records.delete(ref.digest);
  }
  async rotateRefreshToken() {
    return { outcome: 'invalid' as const };
  }
  async destroyByRefreshToken() {
    return null;
  }
  async listByUser() {
    return [];
  }
  async destroyByHandle() {
    return false;
  }
  async destroyByUser() {
    return 0;
  }
}

function facts(cookieHeader?: string, extra: Partial<RequestFacts> = {}): RequestFacts {
  return { cookieHeader, https: false, userAgent: 'jest', ip: '127.0.0.1', ...extra };
}

describe('SessionManager', () => {
  let memory: MemorySessionStore;
  let calls: string[];
  let manager: SessionManager;
  let now: number;

  function options(extra: Partial<SessionModuleOptions> = {}) {
    return resolveSessionOptions({
      secret: SECRET,
      validateUser: async () => null,
      cookie: { secure: false },
      ...extra,
    });
  }

  function build(extra: Partial<SessionModuleOptions> = {}, store?: SessionStore): void {
    const counted = counting(store ?? memory);
    calls = counted.calls;
    manager = new SessionManager(options(extra), counted.store, { clock: () => now });
  }

  async function open(cookie?: string, extra: Partial<RequestFacts> = {}): Promise<{ session: Session; sink: RecordingSink }> {
    const sink = new RecordingSink();
    return { session: await manager.open(facts(cookie, extra), sink), sink };
  }

  /** An anonymous session holding `data`, committed; returns its cookie pair. */
  async function anonymousWith(data: Record<string, unknown>): Promise<string> {
    const { session, sink } = await open();
    for (const [key, value] of Object.entries(data)) session.set(key, value);
    await manager.commit(session);
    return sink.lastPair;
  }

  async function loggedIn(user = ALICE): Promise<string> {
    const { session, sink } = await open();
    await manager.login(session, user);
    return sink.lastPair;
  }

  beforeEach(() => {
    now = Date.now();
    memory = new MemorySessionStore();
    build();
  });

  afterEach(async () => {
    await memory.close();
  });

  describe('open and commit', () => {
    it('gives an empty anonymous session when no cookie is sent, without asking the store', async () => {
      const { session, sink } = await open();
      expect(session.toJSON()).toEqual({});
      expect(session.isAuthenticated).toBe(false);
      expect(session.rejection).toBeNull();
      expect(session.id).toBeNull();
      expect(calls).toEqual([]);
      expect(sink.cookies).toEqual([]);
    });

    it('creates nothing and sets no cookie when nothing was changed', async () => {
      const { session, sink } = await open();
      await manager.commit(session);
      expect(memory.size).toBe(0);
      expect(calls).toEqual([]);
      expect(sink.cookies).toEqual([]);
    });

    it("creates an anonymous visitor's session on the first write and sets a cookie", async () => {
      const { session, sink } = await open();
      session.set('cart', ['apple']);
      await manager.commit(session);
      expect(memory.size).toBe(1);
      expect(calls).toEqual(['create']);
      expect(sink.cookies).toHaveLength(1);
      expect(sink.cookies[0]).toMatch(/^sid=[^;]+\.[^;]+\.[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
      expect(sink.noStore).toBeGreaterThan(0);
      expect(session.id).toEqual(expect.any(String));
      expect(session.isAuthenticated).toBe(false);
    });

    it('reads the data back with the cookie it set', async () => {
      const cookie = await anonymousWith({ cart: ['apple'], step: 2 });
      const { session, sink } = await open(cookie);
      expect(session.rejection).toBeNull();
      expect(session.toJSON()).toEqual({ cart: ['apple'], step: 2 });
      expect(session.isAuthenticated).toBe(false);
      expect(sink.cookies).toEqual([]);
    });

    it('writes only changed keys to an existing session and keeps its cookie', async () => {
      const cookie = await anonymousWith({ a: 1, b: 2 });
      const { session, sink } = await open(cookie);
      session.set('a', 10);
      session.delete('b');
      calls.length = 0;
      await manager.commit(session);
      expect(calls).toEqual(['update']);
      expect(sink.cookies).toEqual([]);
      expect(session.changes.size).toBe(0);
      expect((await open(cookie)).session.toJSON()).toEqual({ a: 10 });
    });

    it('records the user agent (at most 256 characters) and the IP', async () => {
      const { session } = await open(undefined, { userAgent: 'u'.repeat(1000), ip: '10.0.0.7' });
      await manager.login(session, ALICE);
      const [info] = await manager.listSessions(ALICE.id, session.id);
      expect(info.userAgent).toBe('u'.repeat(256));
      expect(info.ip).toBe('10.0.0.7');
      expect(info.current).toBe(true);
      expect(info.id).toBe(session.id);
    });
  });

  describe('login', () => {
    it('issues a new token, destroys the pre-login one and carries the data over', async () => {
      const anonymous = await anonymousWith({ cart: ['apple'] });
      const { session, sink } = await open(anonymous);
      const anonymousHandle = session.id;
      calls.length = 0;
      await manager.login(session, ALICE);

      expect(calls).toEqual(['create', 'destroy']);
      expect(sink.lastPair).not.toBe(anonymous);
      expect(session.isAuthenticated).toBe(true);
      expect(session.id).not.toBe(anonymousHandle);
      expect(memory.size).toBe(1);

      const old = await open(anonymous);
      expect(old.session.rejection).toBe('not-found');
      expect(old.session.toJSON()).toEqual({});

      const fresh = await open(sink.lastPair);
      expect(fresh.session.authenticatedUser).toEqual(ALICE);
      expect(fresh.session.toJSON()).toEqual({ cart: ['apple'] });
    });

    it("does not carry another user's session data into a different user's login", async () => {
      const { session, sink } = await open(undefined);
      await manager.login(session, { id: 'u-mallory', roles: [] });
      const mallory = await open(sink.lastPair);
      mallory.session.set('mfaVerified', true);
      await manager.commit(mallory.session);
      const again = await open(sink.lastPair);
      await manager.login(again.session, ALICE);
      const alice = await open(again.sink.lastPair);
      expect(alice.session.authenticatedUser).toEqual(ALICE);
      expect(alice.session.toJSON()).toEqual({});
    });

    it('carries over changes made before login in the same request', async () => {
      const anonymous = await anonymousWith({ a: 1, b: 2 });
      const { session, sink } = await open(anonymous);
      session.set('b', 3);
      session.delete('a');
      await manager.login(session, ALICE);
      expect((await open(sink.lastPair)).session.toJSON()).toEqual({ b: 3 });
    });

    it("puts the session in the user's slot and sets no-store", async () => {
      const { session, sink } = await open();
      await manager.login(session, ALICE);
      expect(sink.lastPair.split('=')[1].split('.')[0]).toBe(slotTagOf(ALICE.id));
      expect(sink.noStore).toBeGreaterThan(0);
    });

    it('gives every login its own session', async () => {
      const first = await loggedIn();
      const second = await loggedIn();
      expect(first).not.toBe(second);
      expect((await manager.listSessions(ALICE.id)).length).toBe(2);
    });

    it('rejects a user without an id before touching the store or the old session', async () => {
      const anonymous = await anonymousWith({ a: 1 });
      const { session } = await open(anonymous);
      calls.length = 0;
      await expect(manager.login(session, { id: '' })).rejects.toThrow(InvalidSessionDataError);
      await expect(manager.login(session, { roles: ['x'] } as never)).rejects.toThrow(InvalidSessionDataError);
      await expect(manager.login(session, { id: 'u', roles: 'admin' } as never)).rejects.toThrow(InvalidSessionDataError);
      expect(calls).toEqual([]);
      expect((await open(anonymous)).session.get('a')).toBe(1);
    });

    it('sets a Max-Age of the absolute timeout on a persistent cookie', async () => {
      build({ cookie: { secure: false, persistent: true }, absoluteTimeout: '2h' });
      const { session, sink } = await open();
      await manager.login(session, ALICE);
      expect(sink.cookies.at(-1)).toContain('Max-Age=7200');
    });
  });

  describe('logout', () => {
    it('destroys the session and clears the cookie', async () => {
      const cookie = await loggedIn();
      const { session, sink } = await open(cookie);
      await manager.logout(session);
      expect(session.isAuthenticated).toBe(false);
      expect(session.id).toBeNull();
      expect(memory.size).toBe(0);
      expect(sink.cookies).toHaveLength(1);
      expect(sink.cookies[0]).toMatch(/^sid=;/);
      expect(sink.cookies[0]).toContain('Max-Age=0');
      expect(sink.noStore).toBeGreaterThan(0);
      expect((await open(cookie)).session.rejection).toBe('not-found');
    });

    it('clears the cookie even when there is no session', async () => {
      const { session, sink } = await open();
      await manager.logout(session);
      expect(calls).toEqual([]);
      expect(sink.cookies[0]).toMatch(/^sid=;.*Max-Age=0/);
    });
  });

  describe('rotate', () => {
    it('keeps data, handle and user under a new token and kills the old one', async () => {
      const cookie = await loggedIn();
      const { session, sink } = await open(cookie);
      session.set('x', 1);
      await manager.commit(session);
      const handle = session.id;
      await manager.rotate(session);

      expect(sink.lastPair).not.toBe(cookie);
      expect(session.id).toBe(handle);
      expect((await open(cookie)).session.rejection).toBe('not-found');
      const fresh = (await open(sink.lastPair)).session;
      expect(fresh.toJSON()).toEqual({ x: 1 });
      expect(fresh.id).toBe(handle);
      expect(fresh.authenticatedUser).toEqual(ALICE);
      expect(memory.size).toBe(1);
    });

    it('keeps changes not yet committed and writes them to the new token', async () => {
      const { session, sink } = await open(await loggedIn());
      session.set('pending', true);
      await manager.rotate(session);
      expect(session.get('pending')).toBe(true);
      await manager.commit(session);
      expect((await open(sink.lastPair)).session.get('pending')).toBe(true);
    });

    it('stores new roles when given the updated user', async () => {
      const { session, sink } = await open(await loggedIn());
      await manager.rotate(session, { ...ALICE, roles: ['user', 'admin'] });
      expect(session.authenticatedUser?.roles).toEqual(['user', 'admin']);
      expect((await open(sink.lastPair)).session.authenticatedUser?.roles).toEqual(['user', 'admin']);
    });

    it('refuses to rotate into a different user', async () => {
      const cookie = await loggedIn();
      const { session } = await open(cookie);
      await expect(manager.rotate(session, { id: 'u-mallory' })).rejects.toThrow(InvalidSessionDataError);
      expect((await open(cookie)).session.authenticatedUser).toEqual(ALICE);
    });

    it('refuses to rotate a session that has nothing stored', async () => {
      const { session } = await open();
      await expect(manager.rotate(session)).rejects.toThrow(InvalidSessionError);
    });

    it('fails with not-found when the session was destroyed meanwhile', async () => {
      const cookie = await loggedIn();
      const { session, sink } = await open(cookie);
      await memory.destroyByUser(new UserSlotTags([SECRET]).current(ALICE.id));
      await expect(manager.rotate(session)).rejects.toMatchObject({ reason: 'not-found' });
      expect(session.isAuthenticated).toBe(false);
      expect(sink.cookies).toEqual([]);
    });
  });

  describe('rejected cookies', () => {
    it('rejects a forged signature without asking the store', async () => {
      const cookie = await loggedIn();
      const [name, value] = cookie.split('=');
      const [tag, token] = value.split('.');
      const forged = `${name}=${tag}.${token}.${'A'.repeat(43)}`;
      calls.length = 0;
      const { session } = await open(forged);
      expect(session.rejection).toBe('bad-signature');
      expect(session.isAuthenticated).toBe(false);
      expect(calls).toEqual([]);
    });

    it('rejects a cookie signed with another secret without asking the store', async () => {
      const other = new SessionCookieCodec(['another-secret-that-is-long-enough-42']);
      const cookie = `sid=${other.encode({ tag: slotTagOf(ALICE.id), token: 'A'.repeat(43) })}`;
      const { session } = await open(cookie);
      expect(session.rejection).toBe('bad-signature');
      expect(calls).toEqual([]);
    });

    it('rejects a malformed cookie without asking the store', async () => {
      const { session } = await open('sid=not-a-session');
      expect(session.rejection).toBe('malformed');
      expect(calls).toEqual([]);
    });

    it('rejects two session cookies without asking the store, even if both are valid', async () => {
      const a = await loggedIn();
      const b = await loggedIn();
      calls.length = 0;
      const { session } = await open(`${a}; ${b}`);
      expect(session.rejection).toBe('duplicate-cookie');
      expect(session.isAuthenticated).toBe(false);
      expect(calls).toEqual([]);
      const same = await open(`${a}; ${a}`);
      expect(same.session.rejection).toBe('duplicate-cookie');
      expect(calls).toEqual([]);
    });

    it('reports not-found for a well-signed token the store does not know', async () => {
      const codec = new SessionCookieCodec([SECRET]);
      const { session } = await open(`sid=${codec.encode({ tag: slotTagOf('u-x'), token: 'B'.repeat(43) })}`);
      expect(session.rejection).toBe('not-found');
      expect(calls).toEqual(['read']);
    });

    it('accepts cookies signed with an older secret after rotation, and signs new ones with the new secret', async () => {
      const cookie = await loggedIn();
      build({ secret: ['rotated-secret-that-is-long-enough-007', SECRET] });
      const { session, sink } = await open(cookie);
      expect(session.authenticatedUser).toEqual(ALICE);
      await manager.rotate(session);
      build({ secret: 'rotated-secret-that-is-long-enough-007' });
      expect((await open(sink.lastPair)).session.authenticatedUser).toEqual(ALICE);
    });

    it('starts a fresh session on write after a rejected cookie', async () => {
      const { session, sink } = await open('sid=garbage');
      session.set('a', 1);
      await manager.commit(session);
      expect(session.rejection).toBeNull();
      expect((await open(sink.lastPair)).session.get('a')).toBe(1);
    });
  });

  describe('expiry', () => {
    beforeEach(() => build({ idleTimeout: '10m', absoluteTimeout: '30m' }));

    it('ends a session left idle for the idle timeout', async () => {
      const cookie = await loggedIn();
      now += 10 * 60_000 - 1;
      expect((await open(cookie)).session.isAuthenticated).toBe(true);

      const other = await loggedIn();
      now += 10 * 60_000 + 1;
      const { session } = await open(other);
      expect(session.isAuthenticated).toBe(false);
      expect(session.rejection).toBe('not-found');
    });

    it('slides the idle expiry forward on use', async () => {
      const cookie = await loggedIn();
      for (let i = 0; i < 3; i++) {
        now += 9 * 60_000;
        expect((await open(cookie)).session.isAuthenticated).toBe(true);
      }
    });

    it('ends a session at the absolute timeout however active it is', async () => {
      const start = now;
      const cookie = await loggedIn();
      for (const minute of [9, 18, 27, 29]) {
        now = start + minute * 60_000;
        expect([minute, (await open(cookie)).session.isAuthenticated]).toEqual([minute, true]);
      }
      now = start + 30 * 60_000;
      expect((await open(cookie)).session.isAuthenticated).toBe(false);
    });

    it('rejects an idle-expired record from a store whose expiry is lazy', async () => {
      const lazy = new LazyStore();
      build({ idleTimeout: '10m', absoluteTimeout: '30m' }, lazy);
      const cookie = await loggedIn();
      now += 10 * 60_000;
      const { session } = await open(cookie);
      expect(session.rejection).toBe('expired');
      expect(session.isAuthenticated).toBe(false);
      expect(session.toJSON()).toEqual({});
    });

    it('rejects an absolutely expired record from a store whose expiry is lazy', async () => {
      const lazy = new LazyStore();
      build({ idleTimeout: '10m', absoluteTimeout: '30m' }, lazy);
      const cookie = await loggedIn();
      const [record] = lazy.records.values();
      record.lastSeenAt = now + 25 * 60_000;
      now += 30 * 60_000;
      expect((await open(cookie)).session.rejection).toBe('expired');
      now -= 1;
      expect((await open(cookie)).session.isAuthenticated).toBe(true);
    });

    it('lists sessions with an expiry no later than the absolute deadline', async () => {
      const start = now;
      const { session } = await open();
      await manager.login(session, ALICE);
      const [info] = await manager.listSessions(ALICE.id, session.id);
      expect(info.createdAt.getTime()).toBe(start);
      expect(info.expiresAt.getTime()).toBe(start + 10 * 60_000);
      expect(JSON.stringify(info)).not.toContain(refOf(session.token!).digest);
      expect(JSON.stringify(info)).not.toContain(session.token!.token);
    });
  });

  describe('withLock', () => {
    it('saves earlier changes, hands fn the data as stored now, and saves what fn sets before releasing', async () => {
      const cookie = await loggedIn();
      const stale = (await open(cookie)).session;
      const other = (await open(cookie)).session;
      other.set('counter', 41);
      await manager.commit(other);
      stale.set('note', 'before the lock');

      const seen = await manager.withLock(stale, 'counter', (locked) => {
        const value = locked.get<number>('counter')! + 1;
        locked.set('counter', value);
        return value;
      });

      expect(seen).toBe(42);
      expect(calls.filter((call) => call.endsWith('Lock'))).toEqual(['acquireLock', 'renewLock', 'releaseLock']);
      expect((await open(cookie)).session.toJSON()).toEqual({ counter: 42, note: 'before the lock' });
    });

    it('discards what fn set when it throws, and releases the lock', async () => {
      const cookie = await loggedIn();
      const { session } = await open(cookie);

      await expect(
        manager.withLock(session, 'counter', (locked) => {
          locked.set('counter', 1);
          throw new Error('handler failed');
        }),
      ).rejects.toThrow('handler failed');

      expect(session.changes.size).toBe(0);
      expect((await open(cookie)).session.toJSON()).toEqual({});
      expect(await manager.withLock(session, 'counter', () => 'free again', { waitMs: 0 })).toBe('free again');
    });

    it('refuses a session that is not stored yet, a bad lock name, and a store without SessionLocks', async () => {
      await expect(manager.withLock((await open()).session, 'counter', () => 1)).rejects.toBeInstanceOf(InvalidSessionError);
      const { session } = await open(await loggedIn());
      await expect(manager.withLock(session, 'with space', () => 1)).rejects.toBeInstanceOf(InvalidSessionDataError);
      build({}, new LazyStore());
      await expect(manager.withLock(session, 'counter', () => 1)).rejects.toBeInstanceOf(SessionConfigurationError);
    });
  });

  describe('revocation', () => {
    it('revokes one session by handle and all of a user’s sessions', async () => {
      const a = await loggedIn();
      const b = await loggedIn();
      const c = await loggedIn();
      const handleOfB = (await open(b)).session.id!;
      expect(await manager.revokeSession(ALICE.id, handleOfB)).toBe(true);
      expect(await manager.revokeSession(ALICE.id, handleOfB)).toBe(false);
      expect((await open(b)).session.isAuthenticated).toBe(false);
      const handleOfA = (await open(a)).session.id!;
      expect(await manager.revokeAllSessions(ALICE.id, { exceptHandle: handleOfA })).toBe(1);
      expect((await open(a)).session.isAuthenticated).toBe(true);
      expect((await open(c)).session.isAuthenticated).toBe(false);
    });
  });
});
