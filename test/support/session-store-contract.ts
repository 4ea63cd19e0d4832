/**
 * The SessionStore contract (src/core/session-store.ts) as a reusable jest suite.
 * Call describeSessionStoreContract() from a spec file with a setup that builds a fresh store.
 * Refs are built exactly as SessionManager builds them: user sessions carry the user's slot tag,
 * anonymous sessions a random one.
 */
import {
  newSessionToken,
  randomSlotTag,
  randomToken,
  refOf,
  sha256,
  type SessionRef,
} from '../../src/core/session-token.js';
import { ownerOf, slotTagOf } from './user-refs.js';
import { isLockable, type LockableSessionStore } from '../../src/core/session-locks.js';
import type {
  RefreshRotation,
  RefreshState,
  SessionRecord,
  SessionStore,
  TouchPolicy,
} from '../../src/core/session-store.js';

export interface StoreUnderTest {
  store: SessionStore;
  cleanup(): Promise<void>;
}

const HOUR = 3_600_000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A user id no other test uses, so tests sharing one backend cannot see each other's sessions. */
export function uniqueUserId(): string {
  return `user-${randomToken(6)}`;
}

/** A ref for a session of `userId`, with the user's slot tag, as SessionManager makes it. */
export function userRef(userId: string): SessionRef {
  return refOf(newSessionToken(slotTagOf(userId)));
}

/** A ref for an anonymous session, with a random slot tag, as SessionManager makes it. */
export function anonymousRef(): SessionRef {
  return refOf(newSessionToken(randomSlotTag()));
}

export function makeRecord(userId: string | null, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now();
  return {
    handle: randomToken(16),
    userId,
    user: userId === null ? null : JSON.stringify({ id: userId, roles: ['user'] }),
    createdAt: now,
    lastSeenAt: now,
    absoluteExpiresAt: now + HOUR,
    userAgent: 'contract-test/1.0',
    ip: '203.0.113.7',
    data: {},
    ...overrides,
  };
}

/** A read that never slides (touchIntervalMs far in the future). */
export function peek(overrides: Partial<TouchPolicy> = {}): TouchPolicy {
  return { now: Date.now(), idleTimeoutMs: HOUR, touchIntervalMs: HOUR, ...overrides };
}

/** A refresh state as TokenIssuer makes it: the SHA-256 (base64url) of a fresh random secret. */
export function refreshState(ttlMs = HOUR): RefreshState {
  return { digest: sha256(randomToken()), expiresAt: Date.now() + ttlMs };
}

/** The touch a refresh uses: slide to `idleTimeoutMs` from now. */
export function refreshTouch(overrides: Partial<TouchPolicy> = {}): TouchPolicy {
  return { now: Date.now(), idleTimeoutMs: HOUR, touchIntervalMs: 0, ...overrides };
}

export function describeSessionStoreContract(name: string, setup: () => Promise<StoreUnderTest>): void {
  describe(`SessionStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: SessionStore;

    beforeEach(async () => {
      subject = await setup();
      store = subject.store;
    });

    afterEach(async () => {
      await subject?.cleanup();
    });

    /** Creates a user session and returns its ref and the record that was stored. */
    async function createUserSession(
      userId: string,
      overrides: Partial<SessionRecord> = {},
      ttlMs = HOUR,
    ): Promise<{ ref: SessionRef; record: SessionRecord }> {
      const ref = userRef(userId);
      const record = makeRecord(userId, overrides);
      await store.create(ref, record, ttlMs);
      return { ref, record };
    }

    const handlesOf = (records: SessionRecord[]): string[] => records.map((record) => record.handle).sort();

    describe('read and create', () => {
      it('reading a ref that was never created gives null', async () => {
        expect(await store.read(anonymousRef(), peek())).toBeNull();
        expect(await store.read(userRef(uniqueUserId()), peek())).toBeNull();
      });

      it('a created user session reads back with its data, user, handle and times unchanged', async () => {
        const userId = uniqueUserId();
        const { ref, record } = await createUserSession(userId, {
          data: { cart: '["apple","pear"]', theme: '"dark"' },
        });

        const read = await store.read(ref, peek());

        expect(read).toEqual(record);
      });

      it('a created anonymous session reads back with userId and user null', async () => {
        const ref = anonymousRef();
        const record = makeRecord(null, { data: { visits: '3' }, userAgent: null, ip: null });
        await store.create(ref, record, HOUR);

        expect(await store.read(ref, peek())).toEqual(record);
      });

      it('a record returned by read is a copy: changing it does not change the stored session', async () => {
        const { ref, record } = await createUserSession(uniqueUserId(), { data: { a: '1' } });

        const first = (await store.read(ref, peek()))!;
        first.data.a = '"tampered"';
        first.data.extra = '"x"';
        first.user = '{"id":"someone-else"}';

        expect(await store.read(ref, peek())).toEqual(record);
      });

      it('sessions of the same user under different refs are independent', async () => {
        const userId = uniqueUserId();
        const one = await createUserSession(userId, { data: { n: '1' } });
        const two = await createUserSession(userId, { data: { n: '2' } });

        expect((await store.read(one.ref, peek()))?.data).toEqual({ n: '1' });
        expect((await store.read(two.ref, peek()))?.data).toEqual({ n: '2' });
      });
    });

    describe('sliding the idle expiry on read', () => {
      it('does not slide while lastSeenAt is younger than touchIntervalMs', async () => {
        const createdAt = Date.now() - 1_000;
        const { ref } = await createUserSession(uniqueUserId(), { createdAt, lastSeenAt: createdAt });

        const now = Date.now();
        const read = await store.read(ref, { now, idleTimeoutMs: HOUR, touchIntervalMs: 10_000 });
        expect(read?.lastSeenAt).toBe(createdAt);

        // Nothing was written either: a later read still sees the original lastSeenAt.
        expect((await store.read(ref, peek()))?.lastSeenAt).toBe(createdAt);
      });

      it('slides lastSeenAt to now once lastSeenAt is exactly touchIntervalMs old, and keeps it', async () => {
        const lastSeenAt = Date.now() - 5_000;
        const { ref, record } = await createUserSession(uniqueUserId(), { createdAt: lastSeenAt, lastSeenAt });

        const now = lastSeenAt + 5_000;
        const read = await store.read(ref, { now, idleTimeoutMs: HOUR, touchIntervalMs: 5_000 });
        expect(read).toEqual({ ...record, lastSeenAt: now });

        expect((await store.read(ref, peek()))?.lastSeenAt).toBe(now);
      });

      it('a read that does not slide leaves the idle expiry where it was', async () => {
        const { ref } = await createUserSession(uniqueUserId(), {}, 300);

        const started = Date.now();
        while (Date.now() - started < 200) {
          expect(await store.read(ref, peek({ idleTimeoutMs: 300, touchIntervalMs: 10_000 }))).not.toBeNull();
          await sleep(40);
        }
        await sleep(500 - (Date.now() - started));

        expect(await store.read(ref, peek({ idleTimeoutMs: 300, touchIntervalMs: 10_000 }))).toBeNull();
      });

      it('a slide never shortens the expiry: a 2000 ms session read with idleTimeoutMs 300 is still there after 600 ms', async () => {
        const { ref } = await createUserSession(uniqueUserId(), {}, 2_000);

        const now = Date.now();
        const read = await store.read(ref, { now, idleTimeoutMs: 300, touchIntervalMs: 0 });
        expect(read?.lastSeenAt).toBe(now);

        await sleep(600);

        expect(await store.read(ref, peek())).not.toBeNull();
      });
    });

    describe('idle rules, judged before the read touches the session', () => {
      const idleFor = (ms: number) => ({ createdAt: Date.now() - ms, lastSeenAt: Date.now() - ms });

      it("'last-seen' reads null once lastSeenAt + idleTimeoutMs has passed, even when a slide is due and the key lives on", async () => {
        const { ref, record } = await createUserSession(uniqueUserId(), { ...idleFor(2_000), refresh: refreshState() });
        const cookieRead = { now: Date.now(), idleTimeoutMs: 1_000, touchIntervalMs: 0, idleRule: 'last-seen' as const };

        expect(await store.read(ref, cookieRead)).toBeNull();
        expect(await store.read(ref, { ...cookieRead, now: Date.now() })).toBeNull();

        // The session itself is left for its other credential, untouched.
        expect(await store.read(ref, peek())).toEqual(record);
      });

      it("'last-seen' is the default rule", async () => {
        const { ref } = await createUserSession(uniqueUserId(), idleFor(2_000));

        expect(await store.read(ref, { now: Date.now(), idleTimeoutMs: 1_000, touchIntervalMs: 0 })).toBeNull();
      });

      it("'last-seen' reads and slides a session used within its idle timeout", async () => {
        const { ref } = await createUserSession(uniqueUserId(), idleFor(500));
        const now = Date.now();

        const read = await store.read(ref, { now, idleTimeoutMs: 1_000, touchIntervalMs: 0, idleRule: 'last-seen' });

        expect(read?.lastSeenAt).toBe(now);
      });

      it("'refresh-token' reads a session idle past idleTimeoutMs while its refresh token is unexpired, and slides it", async () => {
        const { ref } = await createUserSession(uniqueUserId(), { ...idleFor(2_000), refresh: refreshState(60_000) });
        const now = Date.now();

        const read = await store.read(ref, { now, idleTimeoutMs: 1_000, touchIntervalMs: 0, idleRule: 'refresh-token' });

        expect(read?.lastSeenAt).toBe(now);
      });

      it("'refresh-token' reads null once the refresh token has expired, or when there is none, however recent lastSeenAt is", async () => {
        const expired = { digest: refreshState().digest, expiresAt: Date.now() - 1 };
        const dead = await createUserSession(uniqueUserId(), { refresh: expired });
        const none = await createUserSession(uniqueUserId());
        const bearerRead = () => ({ now: Date.now(), idleTimeoutMs: HOUR, touchIntervalMs: 0, idleRule: 'refresh-token' as const });

        expect(await store.read(dead.ref, bearerRead())).toBeNull();
        expect(await store.read(none.ref, bearerRead())).toBeNull();
        expect(await store.read(dead.ref, peek())).toEqual(dead.record);
      });
    });

    describe('expiry', () => {
      it('a session created with ttlMs 300 is gone after 500 ms', async () => {
        const { ref } = await createUserSession(uniqueUserId(), {}, 300);
        expect(await store.read(ref, peek())).not.toBeNull();

        await sleep(500);

        expect(await store.read(ref, peek())).toBeNull();
      });

      it('reading within the idle window keeps a session alive past its original ttl, and it expires once reads stop', async () => {
        const idle = { idleTimeoutMs: 400, touchIntervalMs: 50 };
        const { ref } = await createUserSession(uniqueUserId(), {}, 400);

        const started = Date.now();
        while (Date.now() - started < 1_000) {
          await sleep(100);
          expect(await store.read(ref, { now: Date.now(), ...idle })).not.toBeNull();
        }
        // Alive well past the original 400 ms ttl...
        expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
        expect(await store.read(ref, { now: Date.now(), ...idle })).not.toBeNull();

        // ...and gone one idle period (plus margin) after the last read.
        await sleep(650);
        expect(await store.read(ref, { now: Date.now(), ...idle })).toBeNull();
      });

      it('sliding never keeps a session past absoluteExpiresAt', async () => {
        const createdAt = Date.now();
        // The idle timeout is long next to the 40 ms between reads, so a stall of a loaded CI
        // machine cannot let it lapse; the deadline is what must end the session.
        const deadline = createdAt + 1_200;
        const { ref } = await createUserSession(uniqueUserId(), { createdAt, lastSeenAt: createdAt, absoluteExpiresAt: deadline }, 900);

        const reads: Array<{ at: number; alive: boolean }> = [];
        while (Date.now() < deadline + 300) {
          const now = Date.now();
          const record = await store.read(ref, { now, idleTimeoutMs: 900, touchIntervalMs: 0 });
          reads.push({ at: now, alive: record !== null });
          await sleep(40);
        }

        // Alive while read often enough before the deadline, never alive at or after it.
        expect(reads.filter((read) => read.at < deadline - 60).every((read) => read.alive)).toBe(true);
        expect(reads.filter((read) => read.at < deadline - 60).length).toBeGreaterThan(3);
        expect(reads.filter((read) => read.at >= deadline && read.alive)).toEqual([]);
        expect(reads.filter((read) => read.at >= deadline).length).toBeGreaterThan(3);
      });

      it('a session is gone at its absolute deadline even when created with a longer ttl', async () => {
        const userId = uniqueUserId();
        const createdAt = Date.now();
        const { ref } = await createUserSession(
          userId,
          { createdAt, lastSeenAt: createdAt, absoluteExpiresAt: createdAt + 300 },
          5_000,
        );

        await sleep(500);

        // A read that does not slide must still honour the absolute deadline.
        expect(await store.read(ref, peek())).toBeNull();
        expect(await store.listByUser(ownerOf(userId))).toEqual([]);
      });
    });

    describe('update', () => {
      it('sets the given data keys, deletes keys patched to null and leaves everything else as it was', async () => {
        const { ref, record } = await createUserSession(uniqueUserId(), {
          data: { keep: '"kept"', change: '1', drop: 'true' },
        });

        expect(await store.update(ref, { data: { change: '2', added: '{"x":1}', drop: null } })).toBe(true);

        expect(await store.read(ref, peek())).toEqual({
          ...record,
          data: { keep: '"kept"', change: '2', added: '{"x":1}' },
        });
      });

      it('replaces the stored user when the patch carries one, without touching data', async () => {
        const { ref, record } = await createUserSession(uniqueUserId(), { data: { a: '1' } });
        const promoted = JSON.stringify({ id: record.userId, roles: ['user', 'admin'] });

        expect(await store.update(ref, { user: promoted })).toBe(true);

        expect(await store.read(ref, peek())).toEqual({ ...record, user: promoted });
      });

      it('20 concurrent updates that each set their own key all survive', async () => {
        const { ref } = await createUserSession(uniqueUserId(), { data: { base: '0' } });

        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.update(ref, { data: { [`key${i}`]: String(i) } })),
        );

        expect(results).toEqual(Array(20).fill(true));
        const expected: Record<string, string> = { base: '0' };
        for (let i = 0; i < 20; i++) expected[`key${i}`] = String(i);
        expect((await store.read(ref, peek()))?.data).toEqual(expected);
      });

      it('returns false for a session that never existed and does not create it', async () => {
        const ref = userRef(uniqueUserId());

        expect(await store.update(ref, { data: { a: '1' }, user: '{"id":"x"}' })).toBe(false);

        expect(await store.read(ref, peek())).toBeNull();
      });

      it('returns false for a destroyed session and does not bring it back', async () => {
        const userId = uniqueUserId();
        const { ref } = await createUserSession(userId, { data: { a: '1' } });
        await store.destroy(ref);

        expect(await store.update(ref, { data: { late: '"write"' } })).toBe(false);

        expect(await store.read(ref, peek())).toBeNull();
        expect(await store.listByUser(ownerOf(userId))).toEqual([]);
      });

      it('returns false for an expired session and does not bring it back', async () => {
        const { ref } = await createUserSession(uniqueUserId(), {}, 150);
        await sleep(350);

        expect(await store.update(ref, { data: { late: '"write"' } })).toBe(false);

        expect(await store.read(ref, peek())).toBeNull();
      });
    });

    describe('data caps, enforced where the write happens', () => {
      /** SESSION_DATA_LIMITS.maxTotalBytes, as documented. */
      const maxTotalBytes = 1024 * 1024;
      /** By name, so this suite also runs (and fails for the right reason) against a store without the caps. */
      const SessionDataTooLargeError = expect.objectContaining({ name: 'SessionDataTooLargeError' });
      const utf8Bytes = (data: Record<string, string>) =>
        Object.entries(data).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value), 0);
      /** A JSON string of `count` '€' signs: 3 UTF-8 bytes each but one UTF-16 character. */
      const euros = (count: number) => JSON.stringify('€'.repeat(count));

      it('counts UTF-8 bytes: an update that would take the data past maxTotalBytes rejects and writes nothing of itself', async () => {
        // 200,002 characters but 600,002 bytes: a second such value passes 1 MiB only in bytes.
        const { ref } = await createUserSession(uniqueUserId(), { data: { a: euros(200_000) } });
        expect(await store.update(ref, { data: { c: '2' } })).toBe(true);

        await expect(store.update(ref, { data: { b: euros(200_000), small: '1' } })).rejects.toEqual(SessionDataTooLargeError);
        expect((await store.read(ref, peek()))?.data).toEqual({ a: euros(200_000), c: '2' });

        // A patch that deletes as much as it adds fits, and is written whole.
        expect(await store.update(ref, { data: { b: euros(200_000), a: null, small: '1' } })).toBe(true);
        expect((await store.read(ref, peek()))?.data).toEqual({ b: euros(200_000), c: '2', small: '1' });
      });

      it('a rejected update leaves the data exactly as it was, the user and refresh state too', async () => {
        const { ref, record } = await createUserSession(uniqueUserId(), { data: { a: euros(300_000) }, refresh: refreshState() });

        await expect(store.update(ref, { data: { b: euros(100_000), a: '1' } })).resolves.toBe(true);
        await expect(store.update(ref, { data: { c: euros(300_000), d: euros(300_000) }, user: '{"id":"x"}' })).rejects.toEqual(
          SessionDataTooLargeError,
        );

        expect(await store.read(ref, peek())).toEqual({ ...record, data: { a: '1', b: euros(100_000) } });
      });

      it('40 concurrent updates of 30,000-byte values: exactly as many succeed as fit under maxTotalBytes, the rest reject', async () => {
        const { ref } = await createUserSession(uniqueUserId());
        const value = JSON.stringify('x'.repeat(29_998));
        const names = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}`);
        const fits = Math.floor(maxTotalBytes / (3 + value.length));
        expect(fits).toBe(34);

        const results = await Promise.allSettled(names.map((name) => store.update(ref, { data: { [name]: value } })));

        const accepted = results.filter((result) => result.status === 'fulfilled');
        const rejected = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
        expect(accepted).toHaveLength(fits);
        expect(accepted.every((result) => result.status === 'fulfilled' && result.value === true)).toBe(true);
        expect(rejected).toHaveLength(40 - fits);
        for (const reason of rejected) expect(reason).toEqual(SessionDataTooLargeError);
        const stored = (await store.read(ref, peek()))!.data;
        expect(Object.keys(stored)).toHaveLength(fits);
        expect(utf8Bytes(stored)).toBeLessThanOrEqual(maxTotalBytes);
      });

      it('create rejects data past the caps and stores nothing', async () => {
        const userId = uniqueUserId();
        const ref = userRef(userId);

        await expect(store.create(ref, makeRecord(userId, { data: { a: euros(200_000), b: euros(200_000) } }), HOUR)).rejects.toEqual(
          SessionDataTooLargeError,
        );

        expect(await store.read(ref, peek())).toBeNull();
        expect(await store.listByUser(ownerOf(userId))).toEqual([]);
      });
    });

    describe('rename', () => {
      it('moves the session to the new ref with its data, user, handle and deadlines; the old ref reads null', async () => {
        const userId = uniqueUserId();
        const { ref: from, record } = await createUserSession(userId, { data: { cart: '[1,2]' } });
        const to = refOf(newSessionToken(from.tag));

        expect(await store.rename(from, to)).toBe(true);

        expect(await store.read(from, peek())).toBeNull();
        expect(await store.read(to, peek())).toEqual(record);
      });

      it("updates the user's index: the renamed session is listed once and can be revoked by its handle", async () => {
        const userId = uniqueUserId();
        const { ref: from, record } = await createUserSession(userId);
        const to = refOf(newSessionToken(from.tag));

        expect(await store.rename(from, to)).toBe(true);

        expect(await store.listByUser(ownerOf(userId))).toEqual([record]);
        expect(await store.destroyByHandle(ownerOf(userId), record.handle)).toBe(true);
        expect(await store.read(to, peek())).toBeNull();
        expect(await store.listByUser(ownerOf(userId))).toEqual([]);
      });

      it('an anonymous session can be renamed too', async () => {
        const from = anonymousRef();
        const record = makeRecord(null, { data: { a: '1' } });
        await store.create(from, record, HOUR);
        const to = refOf(newSessionToken(from.tag));

        expect(await store.rename(from, to)).toBe(true);

        expect(await store.read(from, peek())).toBeNull();
        expect(await store.read(to, peek())).toEqual(record);
      });

      it('keeps the idle expiry: a renamed session with a 300 ms ttl is gone after 500 ms', async () => {
        const { ref: from } = await createUserSession(uniqueUserId(), {}, 300);
        const to = refOf(newSessionToken(from.tag));

        expect(await store.rename(from, to)).toBe(true);
        await sleep(500);

        expect(await store.read(to, peek())).toBeNull();
      });

      it('returns false for a missing session and creates nothing at either ref', async () => {
        const userId = uniqueUserId();
        const from = userRef(userId);
        const to = refOf(newSessionToken(from.tag));

        expect(await store.rename(from, to)).toBe(false);

        expect(await store.read(from, peek())).toBeNull();
        expect(await store.read(to, peek())).toBeNull();
        expect(await store.listByUser(ownerOf(userId))).toEqual([]);
      });

      it('returns false for a destroyed session and does not bring it back under the new ref', async () => {
        const { ref: from } = await createUserSession(uniqueUserId());
        await store.destroy(from);
        const to = refOf(newSessionToken(from.tag));

        expect(await store.rename(from, to)).toBe(false);
        expect(await store.read(to, peek())).toBeNull();
      });
    });

    describe('destroy', () => {
      it("removes the session and its entry in the user's list", async () => {
        const userId = uniqueUserId();
        const { ref } = await createUserSession(userId);
        const other = await createUserSession(userId);

        await store.destroy(ref);

        expect(await store.read(ref, peek())).toBeNull();
        expect(await store.listByUser(ownerOf(userId))).toEqual([other.record]);
      });

      it('is idempotent and does not throw for a ref that never existed', async () => {
        const { ref } = await createUserSession(uniqueUserId());
        await store.destroy(ref);

        await expect(store.destroy(ref)).resolves.toBeUndefined();
        await expect(store.destroy(userRef(uniqueUserId()))).resolves.toBeUndefined();
        await expect(store.destroy(anonymousRef())).resolves.toBeUndefined();
      });

      it('destroys an anonymous session', async () => {
        const ref = anonymousRef();
        await store.create(ref, makeRecord(null), HOUR);

        await store.destroy(ref);

        expect(await store.read(ref, peek())).toBeNull();
      });
    });

    describe('listByUser', () => {
      it("returns exactly the user's live sessions: no other user's, no anonymous ones", async () => {
        const alice = uniqueUserId();
        const bob = uniqueUserId();
        const a1 = await createUserSession(alice, { data: { n: '1' } });
        const a2 = await createUserSession(alice, { data: { n: '2' } });
        const b1 = await createUserSession(bob);
        const anonymous = makeRecord(null);
        await store.create(anonymousRef(), anonymous, HOUR);

        const aliceSessions = await store.listByUser(ownerOf(alice));
        expect(handlesOf(aliceSessions)).toEqual([a1.record.handle, a2.record.handle].sort());
        expect(aliceSessions).toEqual(expect.arrayContaining([a1.record, a2.record]));
        expect(await store.listByUser(ownerOf(bob))).toEqual([b1.record]);
        expect(await store.listByUser(ownerOf(uniqueUserId()))).toEqual([]);
      });

      it('drops a session once it has expired', async () => {
        const userId = uniqueUserId();
        const short = await createUserSession(userId, {}, 200);
        const long = await createUserSession(userId);
        expect(handlesOf(await store.listByUser(ownerOf(userId)))).toEqual([short.record.handle, long.record.handle].sort());

        await sleep(400);

        expect(await store.listByUser(ownerOf(userId))).toEqual([long.record]);
      });

      it('drops a session once it has been destroyed', async () => {
        const userId = uniqueUserId();
        const { ref } = await createUserSession(userId);

        await store.destroy(ref);

        expect(await store.listByUser(ownerOf(userId))).toEqual([]);
      });
    });

    describe('bounds per user', () => {
      const bound = (limit: number) => ({ sessionsPerUser: { limit, onLimit: 'evict-oldest' as const } });
      /** The i-th of a user's sessions, created a millisecond after the one before (deadlines in the same order: the Redis index sorts by them). */
      const createdInOrder = (start: number, i: number) => ({ createdAt: start + i, lastSeenAt: start + i, absoluteExpiresAt: start + HOUR + i });

      it("a user's session beyond sessionsPerUser destroys that user's oldest ones, refresh families and all, and no one else's", async () => {
        const userId = uniqueUserId();
        const other = await createUserSession(uniqueUserId());
        const created: Array<{ ref: SessionRef; record: SessionRecord; refresh: RefreshState }> = [];
        // Distinct creation times: sessions created in the same millisecond have no order among them.
        const start = Date.now() - 100;
        for (let i = 0; i < 5; i++) {
          const refresh = refreshState();
          const ref = userRef(userId);
          const record = makeRecord(userId, { refresh, ...createdInOrder(start, i) });
          await store.create(ref, record, HOUR, bound(3));
          created.push({ ref, record, refresh });
        }

        for (const { ref, refresh } of created.slice(0, 2)) {
          expect(await store.read(ref, peek())).toBeNull();
          expect(await store.rotateRefreshToken(ref, refresh.digest, refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });
        }
        for (const { ref } of created.slice(2)) expect(await store.read(ref, peek())).not.toBeNull();
        expect(handlesOf(await store.listByUser(ownerOf(userId)))).toEqual(handlesOf(created.slice(2).map(({ record }) => record)));
        expect(await store.read(other.ref, peek())).toEqual(other.record);
      });

      const refusing = (limit: number) => ({ sessionsPerUser: { limit, onLimit: 'refuse' as const } });

      it('create reports the handles of the sessions it evicted, oldest first, and none while under the limit', async () => {
        const userId = uniqueUserId();
        const records: SessionRecord[] = [];
        const evicted: string[][] = [];
        const start = Date.now() - 100;
        for (let i = 0; i < 5; i++) {
          const record = makeRecord(userId, createdInOrder(start, i));
          const result = await store.create(userRef(userId), record, HOUR, bound(3));
          if (result.outcome !== 'created') throw new Error(`create answered ${result.outcome}`);
          evicted.push(result.evicted);
          records.push(record);
        }

        expect(evicted).toEqual([[], [], [], [records[0].handle], [records[1].handle]]);
        expect(await store.create(anonymousRef(), makeRecord(null), HOUR, bound(1))).toEqual({ outcome: 'created', evicted: [] });
      });

      it("with 'refuse', a session past the limit is not stored and the user's others stay", async () => {
        const userId = uniqueUserId();
        const kept = await Promise.all([0, 1, 2].map(() => createUserSession(userId, {}, HOUR)));
        const refused = { ref: userRef(userId), record: makeRecord(userId) };

        expect(await store.create(refused.ref, refused.record, HOUR, refusing(3))).toEqual({ outcome: 'refused' });

        expect(await store.read(refused.ref, peek())).toBeNull();
        for (const { ref } of kept) expect(await store.read(ref, peek())).not.toBeNull();
        expect(handlesOf(await store.listByUser(ownerOf(userId)))).toEqual(handlesOf(kept.map(({ record }) => record)));
        expect((await store.create(anonymousRef(), makeRecord(null), HOUR, refusing(1))).outcome).toBe('created');
      });

      it('only live sessions count: destroyed, idle-expired and revoked ones leave room', async () => {
        const userId = uniqueUserId();
        const expiring = await createUserSession(userId, {}, 50);
        const destroyed = await createUserSession(userId);
        await store.destroy(destroyed.ref);
        await sleep(150);

        expect((await store.create(userRef(userId), makeRecord(userId), HOUR, refusing(2))).outcome).toBe('created');
        expect((await store.create(userRef(userId), makeRecord(userId), HOUR, refusing(2))).outcome).toBe('created');
        expect((await store.create(userRef(userId), makeRecord(userId), HOUR, refusing(2))).outcome).toBe('refused');
        expect(await store.read(expiring.ref, peek())).toBeNull();

        await store.destroyByUser(ownerOf(userId));
        expect((await store.create(userRef(userId), makeRecord(userId), HOUR, refusing(2))).outcome).toBe('created');
        const evicting = await store.create(userRef(userId), makeRecord(userId), HOUR, bound(2));
        expect(evicting).toEqual({ outcome: 'created', evicted: [] });
      });

      it("`replaces` destroys the user's own replaced session in the same step, so a re-login is not refused", async () => {
        const userId = uniqueUserId();
        const first = await createUserSession(userId);
        const second = await createUserSession(userId);
        const stranger = await createUserSession(uniqueUserId());
        const relogin = userRef(userId);

        expect(await store.create(relogin, makeRecord(userId), HOUR, { ...refusing(2), replaces: first.ref })).toEqual({
          outcome: 'created',
          evicted: [],
        });

        expect(await store.read(first.ref, peek())).toBeNull();
        expect(await store.read(second.ref, peek())).not.toBeNull();
        expect(await store.read(relogin, peek())).not.toBeNull();
        // Another user's session is never destroyed through `replaces`.
        expect((await store.create(userRef(userId), makeRecord(userId), HOUR, { ...bound(10), replaces: stranger.ref })).outcome).toBe('created');
        expect(await store.read(stranger.ref, peek())).toEqual(stranger.record);
      });

      it('50 concurrent creates of one user with limit 3 leave exactly 3 live sessions, and with refuse exactly 3 are created', async () => {
        for (const onLimit of ['evict-oldest', 'refuse'] as const) {
          const userId = uniqueUserId();
          const refs = Array.from({ length: 50 }, () => userRef(userId));
          const options = { sessionsPerUser: { limit: 3, onLimit } };

          const results = await Promise.all(refs.map((ref) => store.create(ref, makeRecord(userId), HOUR, options)));

          const live = (await Promise.all(refs.map((ref) => store.read(ref, peek())))).filter((record) => record !== null);
          expect(live).toHaveLength(3);
          expect(await store.listByUser(ownerOf(userId))).toHaveLength(3);
          const created = results.filter((result) => result.outcome === 'created');
          if (onLimit === 'refuse') expect(created).toHaveLength(3);
          else expect(created.flatMap((result) => (result.outcome === 'created' ? result.evicted : []))).toHaveLength(47);
        }
      });

      it('without options every user is bounded by DEFAULT_SESSIONS_PER_USER (100): the 101st session ends the first', async () => {
        const userId = uniqueUserId();
        const refs: SessionRef[] = [];
        for (let i = 0; i < 101; i++) {
          const ref = userRef(userId);
          await store.create(ref, makeRecord(userId, { absoluteExpiresAt: Date.now() + HOUR + i }), HOUR);
          refs.push(ref);
        }

        expect(await store.read(refs[0], peek())).toBeNull();
        expect(await store.read(refs[1], peek())).not.toBeNull();
        expect(await store.read(refs[100], peek())).not.toBeNull();
        expect(await store.destroyByUser(ownerOf(userId))).toBe(100);
        for (const ref of [refs[1], refs[50], refs[100]]) expect(await store.read(ref, peek())).toBeNull();
      });

      it('listByUser returns at most 50 sessions, the most recently created', async () => {
        const userId = uniqueUserId();
        const records: SessionRecord[] = [];
        for (let i = 0; i < 60; i++) {
          const record = makeRecord(userId, { absoluteExpiresAt: Date.now() + HOUR + i });
          await store.create(userRef(userId), record, HOUR);
          records.push(record);
        }

        const listed = await store.listByUser(ownerOf(userId));

        expect(listed).toHaveLength(50);
        expect(handlesOf(listed)).toEqual(handlesOf(records.slice(10)));
      });

      it('destroyByUser with keepHandle keeps that session however many others go', async () => {
        const userId = uniqueUserId();
        const refs: SessionRef[] = [];
        for (let i = 0; i < 100; i++) {
          const ref = userRef(userId);
          const record = makeRecord(userId, { absoluteExpiresAt: Date.now() + HOUR + i });
          await store.create(ref, record, HOUR);
          refs.push(ref);
        }
        const kept = (await store.read(refs[37], peek()))!;

        expect(await store.destroyByUser(ownerOf(userId), kept.handle)).toBe(99);

        expect(await store.read(refs[37], peek())).toEqual(kept);
        expect(await store.listByUser(ownerOf(userId))).toEqual([kept]);
      });
    });

    describe('session locks (the optional SessionLocks capability)', () => {
      function lockable(): LockableSessionStore {
        if (!isLockable(store)) throw new Error('this store does not implement SessionLocks');
        return store;
      }

      it('a lock is taken by one owner at a time, and only its owner releases it', async () => {
        const locks = lockable();
        const ref = userRef(uniqueUserId());

        expect(await locks.acquireLock(ref, 'counter', 'owner-a', HOUR)).toBe(true);
        expect(await locks.acquireLock(ref, 'counter', 'owner-b', HOUR)).toBe(false);
        await locks.releaseLock(ref, 'counter', 'owner-b');
        expect(await locks.acquireLock(ref, 'counter', 'owner-b', HOUR)).toBe(false);

        await locks.releaseLock(ref, 'counter', 'owner-a');
        expect(await locks.acquireLock(ref, 'counter', 'owner-b', HOUR)).toBe(true);
        await locks.releaseLock(anonymousRef(), 'never-taken', 'owner-c');
      });

      it('locks are per session and per name', async () => {
        const locks = lockable();
        const ref = userRef(uniqueUserId());
        expect(await locks.acquireLock(ref, 'counter', 'owner-a', HOUR)).toBe(true);

        expect(await locks.acquireLock(ref, 'cart', 'owner-b', HOUR)).toBe(true);
        expect(await locks.acquireLock(userRef(uniqueUserId()), 'counter', 'owner-c', HOUR)).toBe(true);
      });

      it('a lease that ran out frees the lock; the first owner can then neither renew nor release the next owner\'s lock', async () => {
        const locks = lockable();
        const ref = userRef(uniqueUserId());
        expect(await locks.acquireLock(ref, 'counter', 'first', 50)).toBe(true);
        await sleep(150);

        expect(await locks.acquireLock(ref, 'counter', 'second', HOUR)).toBe(true);
        expect(await locks.renewLock(ref, 'counter', 'first', HOUR)).toBe(false);
        await locks.releaseLock(ref, 'counter', 'first');

        expect(await locks.acquireLock(ref, 'counter', 'third', HOUR)).toBe(false);
        expect(await locks.renewLock(ref, 'counter', 'second', HOUR)).toBe(true);
      });

      it('renewal extends the lease: a 200 ms lock renewed after 120 ms is still held 150 ms later', async () => {
        const locks = lockable();
        const ref = userRef(uniqueUserId());
        expect(await locks.acquireLock(ref, 'counter', 'owner', 200)).toBe(true);
        await sleep(120);
        expect(await locks.renewLock(ref, 'counter', 'owner', 300)).toBe(true);
        await sleep(150);

        expect(await locks.acquireLock(ref, 'counter', 'other', HOUR)).toBe(false);
      });

      it('of 50 concurrent attempts on one free lock exactly one succeeds', async () => {
        const locks = lockable();
        const ref = userRef(uniqueUserId());

        const taken = await Promise.all(Array.from({ length: 50 }, (_, i) => locks.acquireLock(ref, 'counter', `owner-${i}`, HOUR)));

        expect(taken.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('destroyByHandle', () => {
      it("destroys the user's own session and returns true, then false the second time", async () => {
        const userId = uniqueUserId();
        const doomed = await createUserSession(userId);
        const kept = await createUserSession(userId);

        expect(await store.destroyByHandle(ownerOf(userId), doomed.record.handle)).toBe(true);

        expect(await store.read(doomed.ref, peek())).toBeNull();
        expect(await store.read(kept.ref, peek())).toEqual(kept.record);
        expect(await store.listByUser(ownerOf(userId))).toEqual([kept.record]);
        expect(await store.destroyByHandle(ownerOf(userId), doomed.record.handle)).toBe(false);
      });

      it("returns false for an unknown handle and for another user's handle, destroying nothing", async () => {
        const alice = uniqueUserId();
        const mallory = uniqueUserId();
        const victim = await createUserSession(alice);
        await createUserSession(mallory);

        expect(await store.destroyByHandle(ownerOf(alice), randomToken(16))).toBe(false);
        expect(await store.destroyByHandle(ownerOf(mallory), victim.record.handle)).toBe(false);
        expect(await store.destroyByHandle(ownerOf(uniqueUserId()), victim.record.handle)).toBe(false);

        expect(await store.read(victim.ref, peek())).toEqual(victim.record);
        expect(await store.listByUser(ownerOf(alice))).toEqual([victim.record]);
      });

      it('returns false for the handle of a session that has expired', async () => {
        const userId = uniqueUserId();
        const { record } = await createUserSession(userId, {}, 150);
        await sleep(350);

        expect(await store.destroyByHandle(ownerOf(userId), record.handle)).toBe(false);
      });
    });

    describe('destroyByUser', () => {
      it('destroys every session of the user and returns how many, leaving other users and anonymous sessions alone', async () => {
        const alice = uniqueUserId();
        const bob = uniqueUserId();
        const mine = [await createUserSession(alice), await createUserSession(alice), await createUserSession(alice)];
        const bobs = await createUserSession(bob);
        const anonymousRefValue = anonymousRef();
        const anonymous = makeRecord(null);
        await store.create(anonymousRefValue, anonymous, HOUR);

        expect(await store.destroyByUser(ownerOf(alice))).toBe(3);

        for (const { ref } of mine) expect(await store.read(ref, peek())).toBeNull();
        expect(await store.listByUser(ownerOf(alice))).toEqual([]);
        expect(await store.read(bobs.ref, peek())).toEqual(bobs.record);
        expect(await store.read(anonymousRefValue, peek())).toEqual(anonymous);
        expect(await store.destroyByUser(ownerOf(alice))).toBe(0);
      });

      it('with keepHandle keeps that one session and returns the count of the others', async () => {
        const userId = uniqueUserId();
        const kept = await createUserSession(userId);
        const others = [await createUserSession(userId), await createUserSession(userId)];

        expect(await store.destroyByUser(ownerOf(userId), kept.record.handle)).toBe(2);

        expect(await store.read(kept.ref, peek())).toEqual(kept.record);
        for (const { ref } of others) expect(await store.read(ref, peek())).toBeNull();
        expect(await store.listByUser(ownerOf(userId))).toEqual([kept.record]);
        expect(await store.destroyByUser(ownerOf(userId), kept.record.handle)).toBe(0);
      });

      it('counts only sessions that were still alive', async () => {
        const userId = uniqueUserId();
        await createUserSession(userId, {}, 150);
        await createUserSession(userId);
        await createUserSession(userId);
        await sleep(350);

        expect(await store.destroyByUser(ownerOf(userId))).toBe(2);
      });

      it('returns 0 for a user without sessions', async () => {
        expect(await store.destroyByUser(ownerOf(uniqueUserId()))).toBe(0);
        expect(await store.destroyByUser(ownerOf(uniqueUserId()), randomToken(16))).toBe(0);
      });
    });

    describe('refresh token rotation', () => {
      const outcomeOf = (rotation: RefreshRotation): string => rotation.outcome;

      it('a session created with a refresh state reads back with it, and is listed with it', async () => {
        const userId = uniqueUserId();
        const refresh = refreshState();
        const { ref, record } = await createUserSession(userId, { refresh });

        const read = await store.read(ref, peek());

        expect(read).toEqual(record);
        expect(read?.refresh).toEqual(refresh);
        expect(await store.listByUser(ownerOf(userId))).toEqual([record]);
      });

      it("rotating the current digest answers 'rotated' with the record carrying the next state, data and deadlines kept", async () => {
        const first = refreshState();
        const { ref, record } = await createUserSession(uniqueUserId(), { refresh: first, data: { cart: '[1]' } });
        const second = refreshState();

        const now = Date.now();
        const result = await store.rotateRefreshToken(ref, first.digest, second, refreshTouch({ now }));

        expect(result).toEqual({ outcome: 'rotated', record: { ...record, lastSeenAt: now, refresh: second } });
        expect(await store.read(ref, peek())).toEqual({ ...record, lastSeenAt: now, refresh: second });
        // The new current token rotates in turn.
        const third = refreshState();
        expect(await store.rotateRefreshToken(ref, second.digest, third, refreshTouch())).toMatchObject({
          outcome: 'rotated',
          record: { refresh: third },
        });
      });

      it("presenting a consumed digest again answers 'reused' and destroys the session", async () => {
        const userId = uniqueUserId();
        const first = refreshState();
        const { ref } = await createUserSession(userId, { refresh: first });
        const other = await createUserSession(userId, { refresh: refreshState() });
        const second = refreshState();
        expect(outcomeOf(await store.rotateRefreshToken(ref, first.digest, second, refreshTouch()))).toBe('rotated');

        expect(await store.rotateRefreshToken(ref, first.digest, refreshState(), refreshTouch())).toEqual({ outcome: 'reused' });

        expect(await store.read(ref, peek())).toBeNull();
        expect(await store.listByUser(ownerOf(userId))).toEqual([other.record]);
        // The family is dead: not even its current token works any more.
        expect(await store.rotateRefreshToken(ref, second.digest, refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });
        // Another session of the same user is untouched.
        expect(await store.read(other.ref, peek())).toEqual(other.record);
      });

      it("a never-issued digest on a live session answers 'invalid' and leaves the session and its token alone", async () => {
        const userId = uniqueUserId();
        const first = refreshState();
        const { ref, record } = await createUserSession(userId, { refresh: first });
        // Give the session a consumed digest too, so 'invalid' is not merely "nothing consumed yet".
        const second = refreshState();
        expect(outcomeOf(await store.rotateRefreshToken(ref, first.digest, second, refreshTouch()))).toBe('rotated');
        const alive = (await store.read(ref, peek()))!;

        for (let i = 0; i < 3; i++) {
          expect(await store.rotateRefreshToken(ref, sha256(randomToken()), refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });
        }

        expect(await store.read(ref, peek())).toEqual(alive);
        expect(handlesOf(await store.listByUser(ownerOf(userId)))).toEqual([record.handle]);
        expect(outcomeOf(await store.rotateRefreshToken(ref, second.digest, refreshState(), refreshTouch()))).toBe('rotated');
      });

      it("digests are compared whole: '' or a part of a consumed digest is 'invalid', not 'reused'", async () => {
        const first = refreshState();
        const { ref } = await createUserSession(uniqueUserId(), { refresh: first });
        const second = refreshState();
        expect(outcomeOf(await store.rotateRefreshToken(ref, first.digest, second, refreshTouch()))).toBe('rotated');
        const alive = (await store.read(ref, peek()))!;

        for (const presented of ['', first.digest.slice(1), first.digest.slice(-8), second.digest.slice(1)]) {
          expect({ presented, outcome: outcomeOf(await store.rotateRefreshToken(ref, presented, refreshState(), refreshTouch())) }).toEqual({
            presented,
            outcome: 'invalid',
          });
        }

        expect(await store.read(ref, peek())).toEqual(alive);
      });

      it("a session without refresh state answers 'invalid' and stays alive", async () => {
        const { ref, record } = await createUserSession(uniqueUserId());
        const anonymous = anonymousRef();
        const anonymousRecord = makeRecord(null, { refresh: null });
        await store.create(anonymous, anonymousRecord, HOUR);

        expect(await store.rotateRefreshToken(ref, sha256(randomToken()), refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });
        expect(await store.rotateRefreshToken(ref, '', refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });
        expect(await store.rotateRefreshToken(anonymous, sha256(randomToken()), refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });

        expect(await store.read(ref, peek())).toEqual(record);
        const anonymousRead = await store.read(anonymous, peek());
        expect(anonymousRead).not.toBeNull();
        expect(anonymousRead?.refresh ?? null).toBeNull();
      });

      it("an expired refresh state answers 'invalid' and does not destroy the session", async () => {
        const userId = uniqueUserId();
        const expired = { digest: sha256(randomToken()), expiresAt: Date.now() - 1_000 };
        const { ref, record } = await createUserSession(userId, { refresh: expired });

        expect(await store.rotateRefreshToken(ref, expired.digest, refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });
        // Not consumed either: asking again is still 'invalid', not 'reused'.
        expect(await store.rotateRefreshToken(ref, expired.digest, refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });

        expect(await store.read(ref, peek())).toEqual(record);
        expect(await store.listByUser(ownerOf(userId))).toEqual([record]);
      });

      it("a refresh state is expired at its expiresAt: 'invalid' then, 'rotated' just before", async () => {
        const refresh = refreshState(60_000);
        const { ref } = await createUserSession(uniqueUserId(), { refresh });

        expect(await store.rotateRefreshToken(ref, refresh.digest, refreshState(), refreshTouch({ now: refresh.expiresAt }))).toEqual({
          outcome: 'invalid',
        });
        expect(outcomeOf(await store.rotateRefreshToken(ref, refresh.digest, refreshState(), refreshTouch({ now: refresh.expiresAt - 1 })))).toBe(
          'rotated',
        );
      });

      it("at or past the absolute deadline answers 'invalid', even with an unexpired refresh state", async () => {
        const createdAt = Date.now();
        const deadline = createdAt + 60_000;
        const refresh = refreshState(HOUR);
        const { ref } = await createUserSession(uniqueUserId(), { createdAt, lastSeenAt: createdAt, absoluteExpiresAt: deadline, refresh });

        expect(await store.rotateRefreshToken(ref, refresh.digest, refreshState(), refreshTouch({ now: deadline }))).toEqual({ outcome: 'invalid' });
        expect(await store.rotateRefreshToken(ref, refresh.digest, refreshState(), refreshTouch({ now: deadline + 5_000 }))).toEqual({
          outcome: 'invalid',
        });
      });

      it("a session whose absolute deadline has passed in real time answers 'invalid'", async () => {
        const createdAt = Date.now();
        const refresh = refreshState(HOUR);
        const { ref } = await createUserSession(
          uniqueUserId(),
          { createdAt, lastSeenAt: createdAt, absoluteExpiresAt: createdAt + 300, refresh },
          5_000,
        );

        await sleep(500);

        expect(await store.rotateRefreshToken(ref, refresh.digest, refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });
        expect(await store.read(ref, peek())).toBeNull();
      });

      it("a missing, destroyed or expired session answers 'invalid' and is not brought back", async () => {
        const userId = uniqueUserId();
        const never = userRef(userId);
        expect(await store.rotateRefreshToken(never, sha256(randomToken()), refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });
        expect(await store.read(never, peek())).toBeNull();

        const destroyed = refreshState();
        const { ref } = await createUserSession(userId, { refresh: destroyed });
        await store.destroy(ref);
        expect(await store.rotateRefreshToken(ref, destroyed.digest, refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });
        expect(await store.read(ref, peek())).toBeNull();

        const idle = refreshState();
        const expiring = await createUserSession(userId, { refresh: idle }, 150);
        await sleep(350);
        expect(await store.rotateRefreshToken(expiring.ref, idle.digest, refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });
        expect(await store.read(expiring.ref, peek())).toBeNull();
        expect(await store.listByUser(ownerOf(userId))).toEqual([]);
      });

      it("20 concurrent rotations of one token: exactly one 'rotated', the rest 'reused' or 'invalid', the winner's digest kept if alive", async () => {
        const userId = uniqueUserId();
        const current = refreshState();
        const { ref } = await createUserSession(userId, { refresh: current });
        const nexts = Array.from({ length: 20 }, () => refreshState());

        const results = await Promise.all(nexts.map((next) => store.rotateRefreshToken(ref, current.digest, next, refreshTouch())));

        const winners = results.flatMap((result, i) => (result.outcome === 'rotated' ? [{ result, next: nexts[i] }] : []));
        expect(winners).toHaveLength(1);
        expect(winners[0].result).toMatchObject({ outcome: 'rotated', record: { refresh: winners[0].next } });
        for (const result of results) expect(['rotated', 'reused', 'invalid']).toContain(result.outcome);
        const after = await store.read(ref, peek());
        if (after !== null) expect(after.refresh).toEqual(winners[0].next);
        // The losers presented a token the winner had just consumed: that is reuse, so the family is gone.
        expect(results.filter((result) => result.outcome === 'reused').length).toBeGreaterThanOrEqual(1);
        expect(after).toBeNull();
        expect(await store.listByUser(ownerOf(userId))).toEqual([]);
      });

      it('rotation slides lastSeenAt and the idle expiry: a 400 ms session rotated with idleTimeoutMs 1500 is alive after 900 ms', async () => {
        const lastSeenAt = Date.now() - 10_000;
        const refresh = refreshState();
        const { ref } = await createUserSession(uniqueUserId(), { createdAt: lastSeenAt, lastSeenAt, refresh }, 400);

        const now = Date.now();
        const result = await store.rotateRefreshToken(ref, refresh.digest, refreshState(), refreshTouch({ now, idleTimeoutMs: 1_500 }));
        expect(result.outcome).toBe('rotated');
        expect(result.outcome === 'rotated' && result.record.lastSeenAt).toBe(now);

        await sleep(900);

        expect((await store.read(ref, peek()))?.lastSeenAt).toBe(now);
      });

      it('rotation never shortens the expiry: a 2000 ms session rotated with idleTimeoutMs 300 is alive after 600 ms', async () => {
        const refresh = refreshState();
        const { ref } = await createUserSession(uniqueUserId(), { refresh }, 2_000);

        expect(outcomeOf(await store.rotateRefreshToken(ref, refresh.digest, refreshState(), refreshTouch({ idleTimeoutMs: 300 })))).toBe('rotated');
        await sleep(600);

        expect(await store.read(ref, peek())).not.toBeNull();
      });

      it('rotation never keeps a session past its absolute deadline', async () => {
        const createdAt = Date.now();
        const refresh = refreshState();
        const { ref } = await createUserSession(
          uniqueUserId(),
          { createdAt, lastSeenAt: createdAt, absoluteExpiresAt: createdAt + 400, refresh },
          300,
        );

        expect(outcomeOf(await store.rotateRefreshToken(ref, refresh.digest, refreshState(), refreshTouch({ idleTimeoutMs: HOUR })))).toBe('rotated');
        await sleep(600);

        expect(await store.read(ref, peek())).toBeNull();
      });

      it('update with patch.refresh replaces the refresh state and leaves everything else as it was', async () => {
        const first = refreshState();
        const { ref, record } = await createUserSession(uniqueUserId(), { refresh: first, data: { a: '1' } });
        const replaced = refreshState();

        expect(await store.update(ref, { refresh: replaced })).toBe(true);

        expect(await store.read(ref, peek())).toEqual({ ...record, refresh: replaced });
        const next = refreshState();
        expect(await store.rotateRefreshToken(ref, replaced.digest, next, refreshTouch())).toMatchObject({
          outcome: 'rotated',
          record: { refresh: next, data: { a: '1' } },
        });
        // The replaced digest is no longer the current one.
        expect(outcomeOf(await store.rotateRefreshToken(ref, first.digest, refreshState(), refreshTouch()))).not.toBe('rotated');
      });

      it('update with patch.refresh gives a session without one its first refresh state', async () => {
        const { ref, record } = await createUserSession(uniqueUserId());
        const refresh = refreshState();

        expect(await store.update(ref, { refresh })).toBe(true);

        expect(await store.read(ref, peek())).toEqual({ ...record, refresh });
        expect(outcomeOf(await store.rotateRefreshToken(ref, refresh.digest, refreshState(), refreshTouch()))).toBe('rotated');
      });

      it('update with patch.refresh on a missing session returns false and creates nothing', async () => {
        const ref = userRef(uniqueUserId());

        expect(await store.update(ref, { refresh: refreshState() })).toBe(false);

        expect(await store.read(ref, peek())).toBeNull();
      });

      it("remembers consumed digests for at least the last 20 rotations: the token from 20 rotations ago is 'reused'", async () => {
        const userId = uniqueUserId();
        const states = Array.from({ length: 22 }, () => refreshState());
        const { ref } = await createUserSession(userId, { refresh: states[0] });
        for (let i = 1; i <= 21; i++) {
          expect(outcomeOf(await store.rotateRefreshToken(ref, states[i - 1].digest, states[i], refreshTouch()))).toBe('rotated');
        }
        // Current is states[21]; states[1] was current 20 rotations ago.
        expect((await store.read(ref, peek()))?.refresh).toEqual(states[21]);

        expect(await store.rotateRefreshToken(ref, states[1].digest, refreshState(), refreshTouch())).toEqual({ outcome: 'reused' });

        expect(await store.read(ref, peek())).toBeNull();
        expect(await store.listByUser(ownerOf(userId))).toEqual([]);
      });

      it("remembers the most recently consumed digest after 21 rotations too", async () => {
        const states = Array.from({ length: 22 }, () => refreshState());
        const { ref } = await createUserSession(uniqueUserId(), { refresh: states[0] });
        for (let i = 1; i <= 21; i++) {
          expect(outcomeOf(await store.rotateRefreshToken(ref, states[i - 1].digest, states[i], refreshTouch()))).toBe('rotated');
        }

        expect(await store.rotateRefreshToken(ref, states[20].digest, refreshState(), refreshTouch())).toEqual({ outcome: 'reused' });
        expect(await store.read(ref, peek())).toBeNull();
      });

      it('rename keeps the refresh state with the session; the old ref answers invalid', async () => {
        const userId = uniqueUserId();
        const first = refreshState();
        const { ref: from } = await createUserSession(userId, { refresh: first });
        const second = refreshState();
        expect(outcomeOf(await store.rotateRefreshToken(from, first.digest, second, refreshTouch()))).toBe('rotated');
        const to = refOf(newSessionToken(from.tag));

        expect(await store.rename(from, to)).toBe(true);

        expect((await store.read(to, peek()))?.refresh).toEqual(second);
        expect(await store.rotateRefreshToken(from, second.digest, refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });
        expect(await store.rotateRefreshToken(to, second.digest, refreshState(), refreshTouch())).toMatchObject({ outcome: 'rotated' });
        expect(await store.listByUser(ownerOf(userId))).toHaveLength(1);
      });
    });

    describe('destroyByRefreshToken (logout by refresh token)', () => {
      it("with the session's current refresh digest destroys the session and its index entry, and returns the record", async () => {
        const userId = uniqueUserId();
        const refresh = refreshState();
        const { ref, record } = await createUserSession(userId, { refresh });

        expect(await store.destroyByRefreshToken(ref, refresh.digest)).toEqual({ ...record, refresh });

        expect(await store.read(ref, peek())).toBeNull();
        expect(await store.listByUser(ownerOf(userId))).toEqual([]);
        expect(await store.destroyByRefreshToken(ref, refresh.digest)).toBeNull();
      });

      it('with a digest it consumed (someone else refreshed with it) destroys the session too, and returns the record with its current refresh state', async () => {
        const userId = uniqueUserId();
        const first = refreshState();
        const { ref } = await createUserSession(userId, { refresh: first });
        const second = refreshState();
        expect((await store.rotateRefreshToken(ref, first.digest, second, refreshTouch())).outcome).toBe('rotated');

        expect((await store.destroyByRefreshToken(ref, first.digest))?.refresh).toEqual(second);

        expect(await store.read(ref, peek())).toBeNull();
        expect(await store.listByUser(ownerOf(userId))).toEqual([]);
        expect(await store.rotateRefreshToken(ref, second.digest, refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });
      });

      it('with a forged or an empty digest returns null and leaves the session, its lastSeenAt and its expiry as they were', async () => {
        const userId = uniqueUserId();
        const first = refreshState();
        const lastSeenAt = Date.now() - 60_000;
        const { ref } = await createUserSession(userId, { refresh: first, lastSeenAt }, 400);
        const second = refreshState();
        expect((await store.rotateRefreshToken(ref, first.digest, second, refreshTouch({ idleTimeoutMs: 400 }))).outcome).toBe('rotated');
        const afterRotation = await store.read(ref, peek());

        await sleep(200);
        for (const digest of [refreshState().digest, '']) {
          expect(await store.destroyByRefreshToken(ref, digest)).toBeNull();
        }

        expect(await store.read(ref, peek())).toEqual(afterRotation);
        expect(await store.listByUser(ownerOf(userId))).toHaveLength(1);
        // Not slid: the 400 ms expiry set by the rotation still holds.
        await sleep(400);
        expect(await store.read(ref, peek())).toBeNull();
      });

      it('returns null for a session without refresh state, which stays alive, and for a missing session', async () => {
        const { ref } = await createUserSession(uniqueUserId());

        expect(await store.destroyByRefreshToken(ref, refreshState().digest)).toBeNull();
        expect(await store.read(ref, peek())).not.toBeNull();
        expect(await store.destroyByRefreshToken(userRef(uniqueUserId()), refreshState().digest)).toBeNull();
      });
    });

    describe('refresh token rotation with a reuse grace window', () => {
      const grace = (windowMs: number, sealedNext = `sealed-${randomToken(8)}`) => ({ windowMs, sealedNext });

      it("the token rotated just before answers 'replayed' with the sealed successor and changes nothing; the successor stays current", async () => {
        const userId = uniqueUserId();
        const first = refreshState();
        const { ref } = await createUserSession(userId, { refresh: first });
        const second = refreshState();
        const window = grace(5_000);
        expect((await store.rotateRefreshToken(ref, first.digest, second, refreshTouch(), window)).outcome).toBe('rotated');
        const afterRotation = await store.read(ref, peek());

        const replay = await store.rotateRefreshToken(ref, first.digest, refreshState(), refreshTouch(), grace(5_000));

        expect(replay).toEqual({ outcome: 'replayed', record: afterRotation, sealedNext: window.sealedNext });
        expect(await store.read(ref, peek())).toEqual(afterRotation);
        expect((await store.rotateRefreshToken(ref, second.digest, refreshState(), refreshTouch())).outcome).toBe('rotated');
        expect(await store.listByUser(ownerOf(userId))).toHaveLength(1);
      });

      it("20 concurrent rotations of one token: one 'rotated', every other one 'replayed' with that rotation's successor, and the session survives", async () => {
        const first = refreshState();
        const { ref } = await createUserSession(uniqueUserId(), { refresh: first });
        const attempts = Array.from({ length: 20 }, () => ({ next: refreshState(), window: grace(5_000) }));

        const results = await Promise.all(
          attempts.map(({ next, window }) => store.rotateRefreshToken(ref, first.digest, next, refreshTouch(), window)),
        );

        const winners = results.flatMap((result, i) => (result.outcome === 'rotated' ? [attempts[i]] : []));
        expect(winners).toHaveLength(1);
        const others = results.filter((result) => result.outcome !== 'rotated');
        expect(others.map((result) => result.outcome)).toEqual(others.map(() => 'replayed'));
        for (const result of others) expect(result).toMatchObject({ sealedNext: winners[0].window.sealedNext, record: { refresh: winners[0].next } });
        expect((await store.read(ref, peek()))?.refresh).toEqual(winners[0].next);
      });

      it("after the window the rotated token is 'reused' and destroys the session", async () => {
        const userId = uniqueUserId();
        const first = refreshState();
        const { ref } = await createUserSession(userId, { refresh: first });
        expect((await store.rotateRefreshToken(ref, first.digest, refreshState(), refreshTouch(), grace(200))).outcome).toBe('rotated');

        await sleep(300);

        expect(await store.rotateRefreshToken(ref, first.digest, refreshState(), refreshTouch(), grace(200))).toEqual({ outcome: 'reused' });
        expect(await store.read(ref, peek())).toBeNull();
        expect(await store.listByUser(ownerOf(userId))).toEqual([]);
      });

      it("without a window, or with windowMs 0, the rotated token is 'reused' at once", async () => {
        for (const window of [undefined, grace(0)]) {
          const first = refreshState();
          const { ref } = await createUserSession(uniqueUserId(), { refresh: first });
          expect((await store.rotateRefreshToken(ref, first.digest, refreshState(), refreshTouch(), window)).outcome).toBe('rotated');

          expect(await store.rotateRefreshToken(ref, first.digest, refreshState(), refreshTouch(), grace(5_000))).toEqual({ outcome: 'reused' });
          expect(await store.read(ref, peek())).toBeNull();
        }
      });

      it("only the token consumed last is replayable: once its successor was rotated too, or replaced by update, it is 'reused'", async () => {
        const states = [refreshState(), refreshState(), refreshState()];
        const rotatedTwice = (await createUserSession(uniqueUserId(), { refresh: states[0] })).ref;
        expect((await store.rotateRefreshToken(rotatedTwice, states[0].digest, states[1], refreshTouch(), grace(5_000))).outcome).toBe('rotated');
        expect((await store.rotateRefreshToken(rotatedTwice, states[1].digest, states[2], refreshTouch(), grace(5_000))).outcome).toBe('rotated');
        expect(await store.rotateRefreshToken(rotatedTwice, states[0].digest, refreshState(), refreshTouch(), grace(5_000))).toEqual({ outcome: 'reused' });
        expect(await store.read(rotatedTwice, peek())).toBeNull();

        const first = refreshState();
        const replaced = (await createUserSession(uniqueUserId(), { refresh: first })).ref;
        expect((await store.rotateRefreshToken(replaced, first.digest, refreshState(), refreshTouch(), grace(5_000))).outcome).toBe('rotated');
        expect(await store.update(replaced, { refresh: refreshState() })).toBe(true);
        expect(await store.rotateRefreshToken(replaced, first.digest, refreshState(), refreshTouch(), grace(5_000))).toEqual({ outcome: 'reused' });
      });
    });
  });
}
