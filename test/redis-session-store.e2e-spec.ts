/**
 * Facts about RedisSessionStore that the generic contract cannot see, checked by looking into a
 * private redis-server with a separate ioredis client.
 */
import { jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { SessionConfigurationError, SessionStoreUnavailableError } from '../src/core/errors.js';
import { newSessionToken, randomSlotTag, randomToken, refOf, sha256, type SessionToken } from '../src/core/session-token.js';
import { ownerOf, slotTagOf } from './support/user-refs.js';
import { RedisSessionStore } from '../src/stores/redis/redis-session-store.js';
import { REMEMBERED_REFRESH_TOKENS } from '../src/core/session-store.js';
import { resolveSessionOptions } from '../src/core/session-options.js';
import { edDsaJws } from '../src/core/jwt/jws.js';
import { parseRefreshToken, TokenIssuer } from '../src/core/jwt/token-issuer.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { makeRecord, peek, refreshState, refreshTouch, sleep, uniqueUserId } from './support/session-store-contract.js';
import { KEY_DIGEST_LENGTH } from '../src/stores/redis/redis-keys.js';

const HOUR = 3_600_000;

function inspectorFor(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1 });
}

/** Closes a client we made, without arming ioredis' stray timer on an already-ended client. */
async function closeClient(client: Redis | undefined): Promise<void> {
  if (!client || client.status === 'end') return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

function uniquePrefix(): string {
  return `rt-${randomToken(6).replace(/[^A-Za-z0-9]/g, 'x')}:`;
}

/** The Redis Cluster hash tag of a key: the text between the first `{` and the next `}`, if non-empty. */
function hashTagOf(key: string): string | null {
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  if (close <= open + 1) return null;
  return key.slice(open + 1, close);
}

describe('RedisSessionStore', () => {
  let server: RedisServerHandle;
  let inspector: Redis;
  const stores: RedisSessionStore[] = [];

  /** A store on the private server with its own key prefix; closed after the test. */
  function newStore(keyPrefix = uniquePrefix()): { store: RedisSessionStore; keyPrefix: string } {
    const store = new RedisSessionStore({ url: server.url, keyPrefix });
    stores.push(store);
    return { store, keyPrefix };
  }

  beforeAll(async () => {
    server = await startRedisServer();
    inspector = inspectorFor(server.url);
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  afterAll(async () => {
    await closeClient(inspector);
    await server?.stop();
  });

  describe('what it writes to Redis', () => {
    /** Creates a mix of sessions the way an app would, returning every token involved. */
    async function populate(store: RedisSessionStore, userId: string): Promise<SessionToken[]> {
      const tokens: SessionToken[] = [];
      for (let i = 0; i < 3; i++) {
        const token = newSessionToken(slotTagOf(userId));
        tokens.push(token);
        await store.create(refOf(token), makeRecord(userId, { data: { i: String(i) } }), HOUR);
      }
      const anonymous = newSessionToken(randomSlotTag());
      tokens.push(anonymous);
      await store.create(refOf(anonymous), makeRecord(null, { data: { visits: '1' } }), HOUR);
      await store.update(refOf(tokens[0]), { data: { cart: '["x"]' }, user: JSON.stringify({ id: userId, roles: ['admin'] }) });
      // Rotate one session: the old token must leave no trace either.
      const rotated = newSessionToken(tokens[1].tag);
      tokens.push(rotated);
      expect(await store.rename(refOf(tokens[1]), refOf(rotated))).toBe(true);
      await store.read(refOf(tokens[2]), { now: Date.now(), idleTimeoutMs: HOUR, touchIntervalMs: 0 });
      return tokens;
    }

    it('never puts a raw token in a key or a value, only (a prefix of) its SHA-256 digest in the key', async () => {
      const { store, keyPrefix } = newStore();
      const userId = uniqueUserId();
      const tokens = await populate(store, userId);

      const keys = await inspector.keys(`${keyPrefix}*`);
      expect(keys.length).toBeGreaterThanOrEqual(5);
      const values: string[] = [];
      for (const key of keys) {
        const type = await inspector.type(key);
        if (type === 'hash') values.push(...Object.values(await inspector.hgetall(key)));
        else if (type === 'zset') values.push(...(await inspector.zrange(key, 0, -1)));
        else values.push((await inspector.get(key))!);
      }
      for (const { token } of tokens) {
        for (const key of keys) expect(key).not.toContain(token);
        for (const value of values) expect(value).not.toContain(token);
      }
      // Live sessions are found under the digest of their token (tokens[1] was renamed away).
      for (const token of [tokens[0], tokens[2], tokens[3], tokens[4]]) {
        expect(keys.some((key) => key.endsWith(`:s:${sha256(token.token).slice(0, KEY_DIGEST_LENGTH)}`))).toBe(true);
      }
      expect(keys.some((key) => key.endsWith(`:s:${sha256(tokens[1].token).slice(0, KEY_DIGEST_LENGTH)}`))).toBe(false);
    });

    it('gives every key it writes a TTL, sessions and the user index alike, and the index outlives its sessions', async () => {
      const { store, keyPrefix } = newStore();
      const userId = uniqueUserId();
      await populate(store, userId);
      await store.listByUser(ownerOf(userId));

      const keys = await inspector.keys(`${keyPrefix}*`);
      const indexKey = `${keyPrefix}{${slotTagOf(userId)}}:u`;
      expect(keys).toContain(indexKey);
      const ttls = new Map<string, number>();
      for (const key of keys) ttls.set(key, await inspector.pttl(key));
      for (const [key, ttl] of ttls) {
        expect({ key, ttl: ttl > 0 }).toEqual({ key, ttl: true });
        expect(ttl).toBeLessThanOrEqual(HOUR);
      }
      const userSessionKeys = keys.filter((key) => key.startsWith(`${keyPrefix}{${slotTagOf(userId)}}:s:`));
      expect(userSessionKeys).toHaveLength(3);
      for (const key of userSessionKeys) expect(ttls.get(indexKey)!).toBeGreaterThanOrEqual(ttls.get(key)! - 50);
    });

    it('slides the key TTL to the idle timeout on read, never beyond the absolute deadline', async () => {
      const { store, keyPrefix } = newStore();
      const userId = uniqueUserId();
      const roomy = newSessionToken(slotTagOf(userId));
      const tight = newSessionToken(slotTagOf(userId));
      const now = Date.now();
      await store.create(refOf(roomy), makeRecord(userId, { absoluteExpiresAt: now + HOUR }), 1_000);
      await store.create(refOf(tight), makeRecord(userId, { absoluteExpiresAt: now + 2_000 }), 1_000);

      await store.read(refOf(roomy), { now: Date.now(), idleTimeoutMs: 60_000, touchIntervalMs: 0 });
      await store.read(refOf(tight), { now: Date.now(), idleTimeoutMs: 60_000, touchIntervalMs: 0 });

      const key = (token: SessionToken) => `${keyPrefix}{${token.tag}}:s:${sha256(token.token).slice(0, KEY_DIGEST_LENGTH)}`;
      const roomyTtl = await inspector.pttl(key(roomy));
      const tightTtl = await inspector.pttl(key(tight));
      expect(roomyTtl).toBeGreaterThan(59_000);
      expect(roomyTtl).toBeLessThanOrEqual(60_000);
      expect(tightTtl).toBeGreaterThan(1_000);
      expect(tightTtl).toBeLessThanOrEqual(2_000);
    });

    it("keeps all keys of one user, sessions and index, under the same {hashtag}, the user's slot tag", async () => {
      const { store, keyPrefix } = newStore();
      const userId = uniqueUserId();
      const tag = slotTagOf(userId);
      await populate(store, userId);

      const keys = await inspector.keys(`${keyPrefix}{${tag}}*`);
      expect(keys).toHaveLength(4); // three sessions and the index; the epoch key only once a revoke-all made it
      expect(keys).toContain(`${keyPrefix}{${tag}}:u`);
      for (const key of keys) expect(hashTagOf(key)).toBe(tag);
      // The anonymous session has a tag of its own, not the user's.
      const all = await inspector.keys(`${keyPrefix}*`);
      const others = all.filter((key) => !keys.includes(key));
      expect(others).toHaveLength(1);
      expect(hashTagOf(others[0])).not.toBe(tag);
      expect(hashTagOf(others[0])).not.toBeNull();
      await store.destroyByUser(ownerOf(userId));
      expect(await inspector.exists(`${keyPrefix}{${tag}}:g`)).toBe(1);
    });

    it('writes every key under the configured keyPrefix, and under sess: by default', async () => {
      // The inspector talks only to this file's private redis-server (started in beforeAll), never to a shared one.
      await inspector.flushdb();
      const { store, keyPrefix } = newStore('tenant-a:');
      await populate(store, uniqueUserId());
      const fallback = new RedisSessionStore({ url: server.url });
      stores.push(fallback);
      await populate(fallback, uniqueUserId());

      const keys = await inspector.keys('*');
      expect(keys.length).toBeGreaterThanOrEqual(10);
      const outside = keys.filter((key) => !key.startsWith(keyPrefix) && !key.startsWith('sess:'));
      expect(outside).toEqual([]);
      expect(keys.filter((key) => key.startsWith(keyPrefix))).toHaveLength(5);
      expect(keys.filter((key) => key.startsWith('sess:'))).toHaveLength(5);
    });
  });

  describe('refresh tokens in Redis', () => {
    /** The issuer SessionManager uses in jwt mode (minting a refresh token needs no signing). */
    function issuer(): TokenIssuer {
      const options = resolveSessionOptions({
        mode: 'jwt',
        jwt: { keys: [{ kid: 'k1', alg: 'HS256', secret: 'jwt-secret-that-is-long-enough-0123456789' }] },
        secret: 'test-secret-that-is-long-enough-0123456789',
        validateUser: async () => null,
      });
      return new TokenIssuer(options.jwt!, edDsaJws);
    }

    /** Every key and every value (hash fields and values, sorted-set members) under a prefix. */
    async function dump(keyPrefix: string): Promise<{ keys: string[]; values: string[] }> {
      const keys = await inspector.keys(`${keyPrefix}*`);
      const values: string[] = [];
      for (const key of keys) {
        const type = await inspector.type(key);
        if (type === 'hash') values.push(...Object.entries(await inspector.hgetall(key)).flat());
        else if (type === 'zset') values.push(...(await inspector.zrange(key, 0, -1)));
        else if (type === 'string') values.push((await inspector.get(key))!);
        else throw new Error(`unexpected ${type} key ${key}`);
      }
      return { keys, values };
    }

    it('never puts a raw refresh secret or refresh token in a key or a value, only its digest', async () => {
      const { store, keyPrefix } = newStore();
      const tokens = issuer();
      const userId = uniqueUserId();
      const sessionToken = newSessionToken(slotTagOf(userId));
      const ref = refOf(sessionToken);
      const record = makeRecord(userId);
      const minted = [tokens.mintRefreshToken(ref, record.absoluteExpiresAt)];
      await store.create(ref, { ...record, refresh: minted[0].state }, HOUR);
      for (let i = 0; i < 5; i++) {
        const presented = parseRefreshToken(minted[i].token);
        expect(presented.ref).toEqual(ref);
        const next = tokens.mintRefreshToken(ref, record.absoluteExpiresAt);
        expect((await store.rotateRefreshToken(ref, presented.digest, next.state, refreshTouch())).outcome).toBe('rotated');
        minted.push(next);
      }
      const replaced = tokens.mintRefreshToken(ref, record.absoluteExpiresAt);
      expect(await store.update(ref, { refresh: replaced.state })).toBe(true);
      minted.push(replaced);

      const { keys, values } = await dump(keyPrefix);
      expect(keys.length).toBeGreaterThanOrEqual(2);
      const secrets = minted.map(({ token }) => token.split('.')[2]);
      for (const secret of [...secrets, ...minted.map(({ token }) => token), sessionToken.token]) {
        expect(secret.length).toBeGreaterThanOrEqual(43);
        for (const key of keys) expect(key).not.toContain(secret);
        for (const value of values) expect(value).not.toContain(secret);
      }
      // What is there is the digest: the current one in the session, consumed ones for reuse detection.
      const hash = await inspector.hgetall(`${keyPrefix}{${ref.tag}}:s:${ref.digest.slice(0, KEY_DIGEST_LENGTH)}`);
      expect(hash.rt).toBe(sha256(minted[6].token));
      expect(hash.rt).toBe(replaced.state.digest);
      for (const { token } of minted.slice(0, 5)) expect(hash.rc).toContain(sha256(token));
    });

    it('keeps the consumed-digest field bounded: after 50 rotations it holds exactly the last 20 whole digests', async () => {
      const { store, keyPrefix } = newStore();
      const userId = uniqueUserId();
      const ref = refOf(newSessionToken(slotTagOf(userId)));
      const states = Array.from({ length: 51 }, () => refreshState());
      await store.create(ref, makeRecord(userId, { refresh: states[0] }), HOUR);
      const key = `${keyPrefix}{${ref.tag}}:s:${ref.digest.slice(0, KEY_DIGEST_LENGTH)}`;

      const lengths: number[] = [];
      for (let i = 1; i <= 50; i++) {
        expect((await store.rotateRefreshToken(ref, states[i - 1].digest, states[i], refreshTouch())).outcome).toBe('rotated');
        lengths.push(await inspector.hstrlen(key, 'rc'));
      }

      expect(REMEMBERED_REFRESH_TOKENS).toBe(20);
      const consumed = (await inspector.hget(key, 'rc'))!.split(',').filter((entry) => entry !== '');
      // The 20 most recently consumed, oldest first, each a whole digest.
      expect(consumed).toEqual(states.slice(30, 50).map((state) => state.digest));
      // The field stops growing once it is full.
      expect(Math.max(...lengths)).toBe(lengths[19]);
      expect(lengths.slice(19).every((length) => length === lengths[19])).toBe(true);
      expect(await inspector.hlen(key)).toBeLessThanOrEqual(16);
      expect(await inspector.memory('USAGE', key)).toBeLessThan(8_192);
    });

    it("'reused' removes the session's entry from the user's index in the same script, not only on the next listByUser", async () => {
      const { store, keyPrefix } = newStore();
      const userId = uniqueUserId();
      const tag = slotTagOf(userId);
      const ref = refOf(newSessionToken(tag));
      const other = refOf(newSessionToken(tag));
      const first = refreshState();
      const record = makeRecord(userId, { refresh: first });
      const otherRecord = makeRecord(userId);
      await store.create(ref, record, HOUR);
      await store.create(other, otherRecord, HOUR);
      expect((await store.rotateRefreshToken(ref, first.digest, refreshState(), refreshTouch())).outcome).toBe('rotated');

      expect(await store.rotateRefreshToken(ref, first.digest, refreshState(), refreshTouch())).toEqual({ outcome: 'reused' });

      expect(await inspector.exists(`${keyPrefix}{${tag}}:s:${ref.digest.slice(0, KEY_DIGEST_LENGTH)}`)).toBe(0);
      expect(await inspector.zrange(`${keyPrefix}{${tag}}:u`, 0, -1)).toEqual([other.digest.slice(0, KEY_DIGEST_LENGTH)]);
    });

    it('a rotation slides the key TTL up to the idle timeout, never down, never past the absolute deadline', async () => {
      const { store, keyPrefix } = newStore();
      const userId = uniqueUserId();
      const key = (digest: string) => `${keyPrefix}{${slotTagOf(userId)}}:s:${digest.slice(0, KEY_DIGEST_LENGTH)}`;
      const now = Date.now();
      const short = { ref: refOf(newSessionToken(slotTagOf(userId))), refresh: refreshState() };
      const long = { ref: refOf(newSessionToken(slotTagOf(userId))), refresh: refreshState() };
      const tight = { ref: refOf(newSessionToken(slotTagOf(userId))), refresh: refreshState() };
      await store.create(short.ref, makeRecord(userId, { refresh: short.refresh }), 1_000);
      await store.create(long.ref, makeRecord(userId, { refresh: long.refresh }), HOUR);
      await store.create(tight.ref, makeRecord(userId, { refresh: tight.refresh, absoluteExpiresAt: now + 2_000 }), 1_000);

      for (const { ref, refresh } of [short, long, tight]) {
        expect((await store.rotateRefreshToken(ref, refresh.digest, refreshState(), refreshTouch({ idleTimeoutMs: 60_000 }))).outcome).toBe(
          'rotated',
        );
      }

      const shortTtl = await inspector.pttl(key(short.ref.digest));
      expect(shortTtl).toBeGreaterThan(59_000);
      expect(shortTtl).toBeLessThanOrEqual(60_000);
      expect(await inspector.pttl(key(long.ref.digest))).toBeGreaterThan(HOUR - 5_000);
      const tightTtl = await inspector.pttl(key(tight.ref.digest));
      expect(tightTtl).toBeGreaterThan(1_000);
      expect(tightTtl).toBeLessThanOrEqual(2_000);
    });

    it('a read with a short idle timeout never lowers the key TTL', async () => {
      const { store, keyPrefix } = newStore();
      const userId = uniqueUserId();
      const ref = refOf(newSessionToken(slotTagOf(userId)));
      await store.create(ref, makeRecord(userId), 60_000);

      expect(await store.read(ref, { now: Date.now(), idleTimeoutMs: 300, touchIntervalMs: 0 })).not.toBeNull();

      expect(await inspector.pttl(`${keyPrefix}{${ref.tag}}:s:${ref.digest.slice(0, KEY_DIGEST_LENGTH)}`)).toBeGreaterThan(59_000);
    });
  });

  describe('revoke-all without the index', () => {
    it('destroyByUser ends every session of the user after the index key is lost; they cannot be read, refreshed, renamed or listed', async () => {
      const { store, keyPrefix } = newStore();
      const userId = uniqueUserId();
      const tag = slotTagOf(userId);
      const refresh = refreshState();
      const sessions = [refOf(newSessionToken(tag)), refOf(newSessionToken(tag))];
      await store.create(sessions[0], makeRecord(userId, { refresh }), HOUR);
      await store.create(sessions[1], makeRecord(userId), HOUR);
      const otherUser = uniqueUserId();
      const other = refOf(newSessionToken(slotTagOf(otherUser)));
      await store.create(other, makeRecord(otherUser), HOUR);
      // As an eviction under allkeys-* or a failover that lost a write would leave it.
      expect(await inspector.del(`${keyPrefix}{${tag}}:u`)).toBe(1);

      await store.destroyByUser(ownerOf(userId));

      for (const ref of sessions) expect(await store.read(ref, peek())).toBeNull();
      expect(await store.rotateRefreshToken(sessions[0], refresh.digest, refreshState(), refreshTouch())).toEqual({ outcome: 'invalid' });
      expect(await store.rename(sessions[1], refOf(newSessionToken(tag)))).toBe(false);
      expect(await store.listByUser(ownerOf(userId))).toEqual([]);
      expect(await store.read(other, peek())).not.toBeNull();
      // A session created afterwards is not revoked.
      const later = refOf(newSessionToken(tag));
      await store.create(later, makeRecord(userId), HOUR);
      expect(await store.read(later, peek())).not.toBeNull();
    });

    it('with keepHandle keeps the current session and ends the others, also those the index lost', async () => {
      const { store, keyPrefix } = newStore();
      const userId = uniqueUserId();
      const tag = slotTagOf(userId);
      const kept = { ref: refOf(newSessionToken(tag)), record: makeRecord(userId) };
      const lost = refOf(newSessionToken(tag));
      await store.create(lost, makeRecord(userId), HOUR);
      await inspector.del(`${keyPrefix}{${tag}}:u`);
      await store.create(kept.ref, kept.record, HOUR);

      expect(await store.destroyByUser(ownerOf(userId), kept.record.handle)).toBe(0);

      expect(await store.read(lost, peek())).toBeNull();
      expect(await store.read(kept.ref, peek())).toEqual(kept.record);
    });

    it('a rename that recreates a lost index gives it a TTL up to the deadline, never none', async () => {
      const { store, keyPrefix } = newStore();
      const userId = uniqueUserId();
      const tag = slotTagOf(userId);
      const from = refOf(newSessionToken(tag));
      await store.create(from, makeRecord(userId), HOUR);
      await inspector.del(`${keyPrefix}{${tag}}:u`);

      expect(await store.rename(from, refOf(newSessionToken(tag)))).toBe(true);

      const ttl = await inspector.pttl(`${keyPrefix}{${tag}}:u`);
      expect(ttl).toBeGreaterThan(HOUR - 60_000);
      expect(ttl).toBeLessThanOrEqual(HOUR);
    });
  });

  it('a rename of a session past its deadline (clock skew between instances) deletes it and recreates no index', async () => {
    const { store, keyPrefix } = newStore();
    const userId = uniqueUserId();
    const tag = slotTagOf(userId);
    const from = refOf(newSessionToken(tag));
    await store.create(from, makeRecord(userId), HOUR);
    // The key still exists, but by this instance's clock its deadline has passed.
    const key = `${keyPrefix}{${tag}}:s:${from.digest.slice(0, KEY_DIGEST_LENGTH)}`;
    // Stored relative to the creation time `c`.
    await inspector.hset(key, 'a', String(Date.now() - 10 - Number(await inspector.hget(key, 'c'))));
    await inspector.del(`${keyPrefix}{${tag}}:u`);

    expect(await store.rename(from, refOf(newSessionToken(tag)))).toBe(false);

    expect(await inspector.exists(`${keyPrefix}{${tag}}:u`)).toBe(0);
    expect(await inspector.exists(`${keyPrefix}{${tag}}:s:${from.digest.slice(0, KEY_DIGEST_LENGTH)}`)).toBe(0);
  });

  describe('the eviction policy', () => {
    const warningsOf = async (url: string, waitMs: number) => {
      const warnings: string[] = [];
      const store = new RedisSessionStore({ url, keyPrefix: uniquePrefix() }, { onWarning: (message) => warnings.push(message) });
      stores.push(store);
      const deadline = Date.now() + waitMs;
      while (warnings.length === 0 && Date.now() < deadline) await sleep(50);
      // The store works either way.
      expect(await store.read(refOf(newSessionToken(randomSlotTag())), peek())).toBeNull();
      return warnings;
    };

    it('warns once at start-up when maxmemory-policy is not noeviction, naming the policy and the fix', async () => {
      const evicting = await startRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] });
      try {
        const warnings = await warningsOf(evicting.url, 3_000);
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/maxmemory-policy is allkeys-lru.*noeviction/);
      } finally {
        await Promise.all(stores.splice(0).map((store) => store.close()));
        await evicting.stop();
      }
    });

    it('says nothing under noeviction, nor when CONFIG is disabled, and never fails', async () => {
      expect(await warningsOf(server.url, 1_000)).toEqual([]);
      const locked = await startRedisServer({ args: ['--maxmemory-policy', 'volatile-lru', '--rename-command', 'CONFIG', '""'] });
      try {
        expect(await warningsOf(locked.url, 1_000)).toEqual([]);
      } finally {
        await Promise.all(stores.splice(0).map((store) => store.close()));
        await locked.stop();
      }
    });
  });

  describe('configuration', () => {
    it('rejects a keyPrefix containing a brace with SessionConfigurationError', () => {
      for (const keyPrefix of ['{app}:', 'app{:', 'app}:']) {
        expect(() => new RedisSessionStore({ url: server.url, keyPrefix })).toThrow(SessionConfigurationError);
      }
    });

    it('rejects zero or two Redis connection sources with SessionConfigurationError', async () => {
      const client = new Redis(server.url, { lazyConnect: true });
      try {
        expect(() => new RedisSessionStore({})).toThrow(SessionConfigurationError);
        expect(() => new RedisSessionStore({ url: server.url, options: { port: server.port } })).toThrow(SessionConfigurationError);
        expect(() => new RedisSessionStore({ url: server.url, client })).toThrow(SessionConfigurationError);
        expect(() => new RedisSessionStore({ options: { port: server.port }, client })).toThrow(SessionConfigurationError);
      } finally {
        client.disconnect();
      }
    });

    it('works with an ioredis options object giving host and port', async () => {
      const store = new RedisSessionStore({ options: { host: '127.0.0.1', port: server.port }, keyPrefix: uniquePrefix() });
      stores.push(store);
      const userId = uniqueUserId();
      const ref = refOf(newSessionToken(slotTagOf(userId)));
      const record = makeRecord(userId);

      await store.create(ref, record, HOUR);

      expect(await store.read(ref, peek())).toEqual(record);
    });

    it('leaves a client passed in open when the store is closed', async () => {
      const client = new Redis(server.url);
      try {
        const store = new RedisSessionStore({ client, keyPrefix: uniquePrefix() });
        const ref = refOf(newSessionToken(randomSlotTag()));
        await store.create(ref, makeRecord(null), HOUR);
        expect(await store.read(ref, peek())).not.toBeNull();

        await store.close();

        expect(client.status).toBe('ready');
        expect(await client.ping()).toBe('PONG');
        expect(await store.read(ref, peek())).not.toBeNull();
      } finally {
        await closeClient(client);
      }
    });

    it('closes the connection it opened itself from a url', async () => {
      const name = `owned-${randomToken(6).replace(/[^A-Za-z0-9]/g, 'x')}`;
      const store = new RedisSessionStore({ url: `${server.url}?connectionName=${name}`, keyPrefix: uniquePrefix() });
      await store.read(refOf(newSessionToken(randomSlotTag())), peek());
      expect(await inspector.client('LIST')).toContain(`name=${name}`);

      await store.close();

      // QUIT is acknowledged just before the socket closes: allow the close a moment to land.
      const deadline = Date.now() + 2_000;
      const stillOpen = async () => store.client.status !== 'end' || ((await inspector.client('LIST')) as string).includes(`name=${name}`);
      while ((await stillOpen()) && Date.now() < deadline) await sleep(20);
      expect(store.client.status).toBe('end');
      expect(await inspector.client('LIST')).not.toContain(`name=${name}`);
    });
  });

  describe('round trips', () => {
    /**
     * Everything the store's own connection sends to Redis while `action` runs, seen through
     * MONITOR. Commands a script runs inside Redis come from 'lua', not from the connection.
     */
    async function commandsDuring(
      connectionName: string,
      action: () => Promise<unknown>,
    ): Promise<{ fromStore: string[][]; fromLua: string[][] }> {
      const list = (await inspector.client('LIST')) as string;
      const line = list.split('\n').find((entry) => entry.includes(` name=${connectionName} `));
      expect(line).toBeDefined();
      const address = /\baddr=(\S+)/.exec(line!)![1];

      const monitor = await inspector.monitor();
      const begin = `begin-${randomToken(6)}`;
      const end = `end-${randomToken(6)}`;
      const seen: Array<{ args: string[]; source: string }> = [];
      let ended!: () => void;
      const endSeen = new Promise<void>((resolve) => (ended = resolve));
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        seen.push({ args, source });
        if (args[0]?.toLowerCase() === 'echo' && args[1] === end) ended();
      });
      try {
        // MONITOR output is ordered by execution, so ECHO markers bracket what the action sent.
        await inspector.echo(begin);
        await action();
        await inspector.echo(end);
        await endSeen;
      } finally {
        await closeClient(monitor);
      }
      const from = seen.findIndex((entry) => entry.args[1] === begin);
      const to = seen.findIndex((entry) => entry.args[1] === end);
      expect(from).toBeGreaterThanOrEqual(0);
      const window = seen.slice(from + 1, to);
      return {
        fromStore: window.filter((entry) => entry.source === address).map((entry) => entry.args),
        fromLua: window.filter((entry) => entry.source === 'lua').map((entry) => entry.args),
      };
    }

    it('reads an existing session, and slides its expiry, in exactly one round trip', async () => {
      const connectionName = `reader-${randomToken(6).replace(/[^A-Za-z0-9]/g, 'x')}`;
      const store = new RedisSessionStore({
        options: { host: '127.0.0.1', port: server.port, connectionName },
        keyPrefix: uniquePrefix(),
      });
      stores.push(store);
      const userId = uniqueUserId();
      const ref = refOf(newSessionToken(slotTagOf(userId)));
      const lastSeenAt = Date.now() - 10_000;
      await store.create(ref, makeRecord(userId, { lastSeenAt }), HOUR);
      // Warm up: the first use of a script may need an extra EVAL to load it.
      await store.read(ref, peek());

      let read: Awaited<ReturnType<typeof store.read>> = null;
      const plain = await commandsDuring(connectionName, async () => (read = await store.read(ref, peek())));
      expect(read).not.toBeNull();
      expect(read!.lastSeenAt).toBe(lastSeenAt);
      expect(plain.fromStore).toHaveLength(1);
      expect(plain.fromStore[0][0].toLowerCase()).toMatch(/^eval(sha)?$/);

      const now = Date.now();
      const sliding = await commandsDuring(
        connectionName,
        async () => (read = await store.read(ref, { now, idleTimeoutMs: HOUR, touchIntervalMs: 1_000 })),
      );
      expect(read!.lastSeenAt).toBe(now);
      expect(sliding.fromStore).toHaveLength(1);
      expect(sliding.fromStore[0][0].toLowerCase()).toMatch(/^eval(sha)?$/);
      // The slide happened inside that one script call (PTTL: a slide never shortens the expiry).
      expect(sliding.fromLua.map((args) => args[0].toLowerCase())).toEqual(expect.arrayContaining(['hgetall', 'hset', 'pttl']));
    });

    it('holds the reads of one event-loop turn and writes them together when the turn ends, each answered with its own session', async () => {
      const { store } = newStore();
      const userId = uniqueUserId();
      const sessions = Array.from({ length: 30 }, () => ({ ref: refOf(newSessionToken(slotTagOf(userId))), record: makeRecord(userId) }));
      for (const { ref, record } of sessions) await store.create(ref, record, HOUR);
      const stream = (store.client as Redis).stream;
      expect(stream.writableCorked).toBe(0);

      const reads = sessions.map(({ ref }) => store.read(ref, peek()));
      // Still in the turn that sent them: all 30 are in the socket's buffer, none written yet.
      expect(stream.writableCorked).toBe(1);
      expect(stream.writableLength).toBeGreaterThan(0);
      const records = await Promise.all(reads);
      expect(stream.writableCorked).toBe(0);
      expect(records.map((record) => record?.handle)).toEqual(sessions.map(({ record }) => record.handle));
    });

    it('still answers when a test fakes the timers after the store was loaded', async () => {
      const { store } = newStore();
      const userId = uniqueUserId();
      const ref = refOf(newSessionToken(slotTagOf(userId)));
      const record = makeRecord(userId);
      await store.create(ref, record, HOUR);
      jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
      try {
        expect((await store.read(ref, peek()))?.handle).toBe(record.handle);
      } finally {
        jest.useRealTimers();
      }
    });

    it('with batchWrites: false sends each command at once; a batchWrites that is not a boolean fails naming it', async () => {
      const store = new RedisSessionStore({ url: server.url, keyPrefix: uniquePrefix(), batchWrites: false });
      stores.push(store);
      const userId = uniqueUserId();
      const ref = refOf(newSessionToken(slotTagOf(userId)));
      await store.create(ref, makeRecord(userId), HOUR);
      const reading = store.read(ref, peek());
      expect((store.client as Redis).stream.writableCorked).toBe(0);
      expect(await reading).not.toBeNull();
      expect(() => new RedisSessionStore({ url: server.url, batchWrites: 'yes' as never })).toThrow(
        expect.objectContaining({ name: 'SessionConfigurationError', option: 'store.batchWrites' }),
      );
    });
  });
});

describe('RedisSessionStore while Redis is down', () => {
  let server: RedisServerHandle;
  let store: RedisSessionStore;
  const operationTimeoutMs = 500;

  beforeAll(async () => {
    server = await startRedisServer();
    store = new RedisSessionStore({ url: server.url, keyPrefix: uniquePrefix(), operationTimeoutMs });
  });

  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  async function timed<T>(action: () => Promise<T>): Promise<{ error: unknown; elapsed: number }> {
    const started = Date.now();
    try {
      await action();
      return { error: undefined, elapsed: Date.now() - started };
    } catch (error) {
      return { error, elapsed: Date.now() - started };
    }
  }

  it('rejects every operation with SessionStoreUnavailableError within operationTimeoutMs plus a margin, then recovers on its own', async () => {
    const userId = uniqueUserId();
    const ref = refOf(newSessionToken(slotTagOf(userId)));
    await store.create(ref, makeRecord(userId), HOUR);
    expect(await store.read(ref, peek())).not.toBeNull();

    await server.stop();

    const operations: Array<[string, () => Promise<unknown>]> = [
      ['read', () => store.read(ref, peek())],
      ['read again', () => store.read(ref, peek())],
      ['create', () => store.create(refOf(newSessionToken(slotTagOf(userId))), makeRecord(userId), HOUR)],
      ['update', () => store.update(ref, { data: { a: '1' } })],
      ['listByUser', () => store.listByUser(ownerOf(userId))],
      ['destroy', () => store.destroy(ref)],
    ];
    for (const [name, operation] of operations) {
      const { error, elapsed } = await timed(operation);
      expect({ name, error }).toEqual({ name, error: expect.any(SessionStoreUnavailableError) });
      expect({ name, elapsed }).toEqual({ name, elapsed: expect.any(Number) });
      expect(elapsed).toBeLessThan(operationTimeoutMs + 700);
    }

    await server.restart();

    // The server lost its data (no persistence); a new session works again without a new store.
    const fresh = refOf(newSessionToken(slotTagOf(userId)));
    const deadline = Date.now() + 10_000;
    let recovered = false;
    while (!recovered && Date.now() < deadline) {
      try {
        await store.create(fresh, makeRecord(userId), HOUR);
        recovered = true;
      } catch (error) {
        expect(error).toBeInstanceOf(SessionStoreUnavailableError);
        await sleep(200);
      }
    }
    expect(recovered).toBe(true);
    expect(await store.read(fresh, peek())).not.toBeNull();
    expect(await store.read(ref, peek())).toBeNull();
  });
});
