/**
 * withSessionLock: a read-modify-write of session data under a per-session lock loses no update
 * however many requests run it at once, on Redis and in memory, over Express and Fastify, in
 * session and jwt mode; without the lock the same requests lose updates. A lock not taken in
 * time answers 409, as does a handler that outlived its lease without renewing it (its write is
 * dropped); a store that is down, 503. Redis lock keys share the session's hash tag and expire
 * with their lease.
 */
import { Controller, Get, HttpCode, Inject, Post, UseGuards, type INestApplication } from '@nestjs/common';
import { AuthenticatedGuard, AuthService, CurrentSession, RedisSessionStore, type AuthEvent, type Session } from '../src/index.js';
import { DemoCounterController } from '../src/demo/demo-counter.controller.js';
import { newSessionToken, randomSlotTag, refOf } from '../src/core/session-token.js';
import { http, login, MATRIX, sleep, storeOption, uniqueKeyPrefix, type StoreKind } from './support/http-helpers.js';
import { TEST_KEYS, tokenLogin } from './support/jwt-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, createTestApp, type AdapterName } from './support/test-app.js';

const INCREMENTS = 200;

/** Lets a test hold the lock in one request until it says so. */
let gate: { held: () => void; heldOnce: Promise<void>; open: () => void; opened: Promise<void> };

function newGate(): typeof gate {
  let held!: () => void;
  let open!: () => void;
  const heldOnce = new Promise<void>((resolve) => (held = resolve));
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { held, heldOnce, open, opened };
}

@Controller('lock-probe')
class LockProbeController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  /** The counter as stored, for cookie and bearer callers alike. */
  @Get('counter')
  @UseGuards(AuthenticatedGuard)
  counter(@CurrentSession() session: Session): { counter: unknown } {
    return { counter: session.get('counter') };
  }

  /** Holds the counter lock until the test opens the gate. */
  @Post('hold')
  @HttpCode(200)
  @UseGuards(AuthenticatedGuard)
  hold(@CurrentSession() session: Session) {
    return this.auth.withSessionLock(session, 'counter', async () => {
      gate.held();
      await gate.opened;
      return { ok: true };
    });
  }

  /** Waits at most 50 ms for the counter lock. */
  @Post('impatient')
  @HttpCode(200)
  @UseGuards(AuthenticatedGuard)
  impatient(@CurrentSession() session: Session) {
    return this.auth.withSessionLock(session, 'counter', () => ({ ok: true }), { waitMs: 50 });
  }

  /** Outlives a 50 ms lease without renewing it, then writes. */
  @Post('overstay')
  @HttpCode(200)
  @UseGuards(AuthenticatedGuard)
  overstay(@CurrentSession() session: Session) {
    return this.auth.withSessionLock(
      session,
      'counter',
      async (locked) => {
        await sleep(200);
        locked.set('counter', 1000);
        return { ok: true };
      },
      { leaseMs: 50 },
    );
  }

  /** Works for three times its lease, renewing it as it goes. */
  @Post('renewing')
  @HttpCode(200)
  @UseGuards(AuthenticatedGuard)
  renewing(@CurrentSession() session: Session) {
    return this.auth.withSessionLock(
      session,
      'counter',
      async (locked, lease) => {
        for (let i = 0; i < 3; i++) {
          await sleep(100);
          await lease.renew();
        }
        locked.set('counter', 7);
        return { ok: true };
      },
      { leaseMs: 300 },
    );
  }
}

let redis: RedisServerHandle;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

/** The session's counter as stored, read through a fresh request. */
async function storedCounter(app: INestApplication, auth: Record<string, string>): Promise<unknown> {
  const response = await http(app).get('/lock-probe/counter').set(auth);
  expect(response.status).toBe(200);
  return (response.body as { counter?: unknown }).counter;
}

function concurrentIncrements(app: INestApplication, auth: Record<string, string>, path: string) {
  return Promise.all(Array.from({ length: INCREMENTS }, () => http(app).post(path).set(auth)));
}

describe.each(MATRIX)('the session lock over %s with the %s store', (adapter: AdapterName, store: StoreKind) => {
  let app: INestApplication;
  let events: AuthEvent[];

  afterEach(async () => {
    await app?.close();
  });

  async function sessionApp(): Promise<Record<string, string>> {
    events = [];
    app = await createTestApp({
      adapter,
      controllers: [DemoCounterController, LockProbeController],
      session: { store: storeOption(store, redis.url), onAuthEvent: (event) => events.push(event) },
    });
    return { Cookie: (await login(app, 'alice')).cookie };
  }

  it(`${INCREMENTS} concurrent increments through the lock end at exactly ${INCREMENTS}, each answer a different value`, async () => {
    const auth = await sessionApp();

    const responses = await concurrentIncrements(app, auth, '/demo/counter');

    expect(responses.map((response) => response.status)).toEqual(Array(INCREMENTS).fill(200));
    const values = responses.map((response) => (response.body as { value: number }).value).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: INCREMENTS }, (_, i) => i + 1));
    expect(await storedCounter(app, auth)).toBe(INCREMENTS);
  });

  it(`without the lock (?lock=off) the same ${INCREMENTS} concurrent increments lose updates`, async () => {
    const auth = await sessionApp();

    const responses = await concurrentIncrements(app, auth, '/demo/counter?lock=off');

    expect(responses.map((response) => response.status)).toEqual(Array(INCREMENTS).fill(200));
    expect(await storedCounter(app, auth)).toBeLessThan(INCREMENTS);
  });

  it('a request that cannot take the lock within waitMs gets 409 and a lock.timeout event; the holder finishes', async () => {
    const auth = await sessionApp();
    gate = newGate();
    const holding = http(app).post('/lock-probe/hold').set(auth).then((response) => response);
    await gate.heldOnce;

    const refused = await http(app).post('/lock-probe/impatient').set(auth);

    expect(refused.status).toBe(409);
    expect((refused.body as { message: string }).message).toMatch(/held by another request .* retry the request/);
    expect(events.filter((event) => event.type === 'lock.timeout')).toEqual([
      { type: 'lock.timeout', userId: 'u-alice', sessionId: expect.any(String), lock: 'counter', waitedMs: expect.any(Number) },
    ]);
    gate.open();
    expect((await holding).status).toBe(200);
    expect((await http(app).post('/lock-probe/impatient').set(auth)).status).toBe(200);
  });

  it("a handler that outlives its lease without renewing gets 409 and its write is dropped; one that renews keeps it", async () => {
    const auth = await sessionApp();
    expect((await http(app).post('/demo/counter').set(auth)).status).toBe(200);

    const overstayed = await http(app).post('/lock-probe/overstay').set(auth);

    expect(overstayed.status).toBe(409);
    expect((overstayed.body as { message: string }).message).toMatch(/lease ran out/);
    expect(await storedCounter(app, auth)).toBe(1);
    expect((await http(app).post('/lock-probe/renewing').set(auth)).status).toBe(200);
    expect(await storedCounter(app, auth)).toBe(7);
  });

  it(`in jwt mode, ${INCREMENTS} concurrent bearer increments through the lock end at exactly ${INCREMENTS}`, async () => {
    app = await createTestApp({
      adapter,
      controllers: [DemoCounterController, LockProbeController],
      session: { mode: 'jwt', store: storeOption(store, redis.url), jwt: { keys: [TEST_KEYS.hs1] } },
    });
    const { accessToken } = await tokenLogin(app);
    const auth = { Authorization: `Bearer ${accessToken}` };

    const responses = await concurrentIncrements(app, auth, '/demo/counter');

    expect(responses.map((response) => response.status)).toEqual(Array(INCREMENTS).fill(200));
    expect(await storedCounter(app, auth)).toBe(INCREMENTS);
  });
});

describe('Redis lock keys', () => {
  it("share the session's hash tag and expire with their lease", async () => {
    const store = new RedisSessionStore({ url: redis.url, keyPrefix: 'lock-keys:' });
    try {
      const tag = randomSlotTag();
      const ref = refOf(newSessionToken(tag));
      expect(await store.acquireLock(ref, 'counter', 'owner', 5_000)).toBe(true);

      const keys = await store.client.keys('lock-keys:*');
      expect(keys).toEqual([`lock-keys:{${tag}}:l:${ref.digest}:counter`]);
      const ttl = await store.client.pttl(keys[0]);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(5_000);
      await store.releaseLock(ref, 'counter', 'owner');
      expect(await store.client.keys('lock-keys:*')).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe.each(ADAPTERS)('the session lock with Redis down, over %s', (adapter: AdapterName) => {
  let own: RedisServerHandle;
  let app: INestApplication;

  beforeEach(async () => {
    own = await startRedisServer();
  });

  afterEach(async () => {
    await app?.close();
    await own?.stop();
  });

  it('a locked increment answers 503 with Retry-After while the store is down, and works again once it is back', async () => {
    const store = { type: 'redis' as const, url: own.url, keyPrefix: uniqueKeyPrefix(), operationTimeoutMs: 300 };
    app = await createTestApp({ adapter, controllers: [DemoCounterController], session: { store } });
    const auth = { Cookie: (await login(app, 'alice')).cookie };
    await own.stop();

    const down = await http(app).post('/demo/counter').set(auth);

    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBeDefined();
    await own.restart();
    // The private server keeps nothing across a restart: log in again.
    const back = await http(app).post('/demo/counter').set({ Cookie: (await login(app, 'alice')).cookie });
    expect(back.status).toBe(200);
    expect(back.body).toEqual({ value: 1 });
  });
});
