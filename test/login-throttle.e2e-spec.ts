/**
 * SECURITY row 23: login throttled per account and address, per account and per address
 * before the password is checked; 429 with Retry-After; counters in the store with TTLs; a
 * lockout lasts one window and cannot be aimed at the real user from another address.
 */
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { createTestApp, validateTestUser, type AdapterName } from './support/test-app.js';
import { http, MATRIX, sleep, storeOption, uniqueKeyPrefix, type StoreKind } from './support/http-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import type { LoginThrottleOptions } from '../src/core/session-options.js';

let redis: RedisServerHandle;
let inspector: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  inspector = new Redis(redis.url);
});

afterAll(async () => {
  await inspector.quit();
  await redis.stop();
});

describe.each(MATRIX)('login throttling over %s with the %s store', (adapter: AdapterName, kind: StoreKind) => {
  const apps: INestApplication[] = [];
  let checks: string[];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function app(loginThrottle: LoginThrottleOptions | false, keyPrefix = uniqueKeyPrefix('throttle')) {
    checks = [];
    const created = await createTestApp({
      adapter,
      trustProxy: true,
      session: {
        store: storeOption(kind, redis.url, keyPrefix),
        loginThrottle,
        validateUser: async (username, password) => {
          checks.push(username);
          return validateTestUser(username, password);
        },
      },
    });
    apps.push(created);
    return created;
  }

  const attempt = (server: INestApplication, username: string, password: string, ip = '203.0.113.1') =>
    http(server).post('/auth/login').set('X-Forwarded-For', ip).send({ username, password });

  it('answers 429 with Retry-After once an account is out of attempts, without checking the password, even the right one', async () => {
    const server = await app({ perAccount: { attempts: 3, window: '30s' } });
    for (let i = 0; i < 3; i++) expect((await attempt(server, 'alice', 'wrong')).status).toBe(401);
    const checked = checks.length;

    const refused = await attempt(server, 'alice', 'alice-password');

    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(30);
    expect(checks.length).toBe(checked);
    expect((await attempt(server, 'root', 'root-password')).status).toBe(200); // other accounts unaffected
  });

  it('does not let a guesser at one address lock the real user out from another (defaults)', async () => {
    const server = await app({});
    for (let i = 0; i < 10; i++) expect((await attempt(server, 'root', 'wrong', '203.0.113.66')).status).toBe(401);
    const checked = checks.length;
    const guesser = await attempt(server, 'root', 'root-password', '203.0.113.66');
    expect(guesser.status).toBe(429);
    expect(Number(guesser.headers['retry-after'])).toBeGreaterThan(0);
    expect(checks.length).toBe(checked); // the address was throttled before the password check
    expect((await attempt(server, 'root', 'root-password', '198.51.100.20')).status).toBe(200);
    // The guesser's address stays throttled for that account, even after the real user's login.
    expect((await attempt(server, 'root', 'wrong', '203.0.113.66')).status).toBe(429);
  });

  it('never lets one address that keeps trying past its own limit reach the account-wide ceiling (defaults)', async () => {
    const server = await app({});
    const statuses: number[] = [];
    for (let i = 0; i < 110; i++) statuses.push((await attempt(server, 'root', 'wrong', '203.0.113.77')).status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(100);
    expect((await attempt(server, 'root', 'root-password', '198.51.100.21')).status).toBe(200);
  });

  it('stops guessing spread over many addresses at the account-wide ceiling', async () => {
    const server = await app({ perAccountAndIp: { attempts: 3, window: '30s' }, perAccount: { attempts: 5, window: '30s' } });
    for (const ip of ['203.0.113.1', '203.0.113.1', '203.0.113.1', '203.0.113.2', '203.0.113.2']) {
      expect((await attempt(server, 'alice', 'wrong', ip)).status).toBe(401);
    }
    expect((await attempt(server, 'alice', 'wrong', '203.0.113.1')).status).toBe(429); // that address's own limit
    const ceiling = await attempt(server, 'alice', 'alice-password', '203.0.113.3');
    expect(ceiling.status).toBe(429);
    expect(Number(ceiling.headers['retry-after'])).toBeLessThanOrEqual(30);
    expect((await attempt(server, 'root', 'root-password', '203.0.113.3')).status).toBe(200);
  });

  it('lets the real user in again once the window has passed: a lockout lasts one window', async () => {
    const server = await app({ perAccount: { attempts: 2, window: '1s' } });
    await attempt(server, 'alice', 'wrong');
    await attempt(server, 'alice', 'wrong');
    expect((await attempt(server, 'alice', 'alice-password')).status).toBe(429);
    await sleep(1_200);
    expect((await attempt(server, 'alice', 'alice-password')).status).toBe(200);
  });

  it('gives back the point a successful login took, and only that: the failures before it stay counted', async () => {
    const server = await app({ perAccount: { attempts: 3, window: '30s' } });
    await attempt(server, 'alice', 'wrong');
    await attempt(server, 'alice', 'wrong');
    for (let login = 0; login < 3; login++) expect((await attempt(server, 'alice', 'alice-password')).status).toBe(200);
    expect((await attempt(server, 'alice', 'wrong')).status).toBe(401);
    expect((await attempt(server, 'alice', 'alice-password')).status).toBe(429);
  });

  it("never lets another account whose name normalises the same reset the lockout: the owner of 'Alice' cannot keep guessing 'alice'", async () => {
    // A case-sensitive lookup, as many apps do: 'Alice' is another account that shares alice's counters.
    const ownAccount = { username: 'Alice', password: 'attacker-own-password' };
    const server = await createTestApp({
      adapter,
      trustProxy: true,
      session: {
        store: storeOption(kind, redis.url, uniqueKeyPrefix('throttle')),
        loginThrottle: { perAccountAndIp: { attempts: 3, window: '15m' }, perAccount: { attempts: 5, window: '15m' }, perIp: { attempts: 1000, window: '15m' } },
        validateUser: async (username, password) =>
          username === ownAccount.username ? (password === ownAccount.password ? { id: 'u-attacker' } : null) : validateTestUser(username, password),
      },
    });
    apps.push(server);
    let guessesChecked = 0;
    for (let address = 1; address <= 4; address++) {
      for (let guess = 0; guess < 3; guess++) if ((await attempt(server, 'alice', `wrong-${guess}`, `10.0.0.${address}`)).status === 401) guessesChecked++;
      // 200 while the shared account counter lasts, then 429 like every spelling of it.
      expect([200, 429]).toContain((await attempt(server, ownAccount.username, ownAccount.password, '10.9.9.9')).status);
    }
    expect(guessesChecked).toBe(5);
  });

  it('throttles one address across many usernames, and leaves other addresses alone', async () => {
    const server = await app({ perIp: { attempts: 4, window: '30s' } });
    for (const username of ['a', 'b', 'c', 'd']) expect((await attempt(server, username, 'x')).status).toBe(401);
    expect((await attempt(server, 'e', 'x')).status).toBe(429);
    expect((await attempt(server, 'alice', 'alice-password', '198.51.100.7')).status).toBe(200);
  });

  it('counts spellings of one username that differ in case or surrounding spaces against one account', async () => {
    const server = await app({ perAccount: { attempts: 3, window: '30s' } });
    for (const spelling of ['Alice', 'ALICE ', ' alice']) expect((await attempt(server, spelling, 'wrong')).status).toBe(401);
    expect((await attempt(server, 'alice', 'alice-password')).status).toBe(429);
  });

  it('counts one IPv6 /64 as one address', async () => {
    const server = await app({ perIp: { attempts: 2, window: '30s' } });
    expect((await attempt(server, 'a', 'x', '2001:db8:1:2::1')).status).toBe(401);
    expect((await attempt(server, 'b', 'x', '2001:db8:1:2:ffff::7')).status).toBe(401);
    expect((await attempt(server, 'c', 'x', '2001:db8:1:2:3:4:5:6')).status).toBe(429);
    expect((await attempt(server, 'alice', 'alice-password', '2001:db8:1:3::1')).status).toBe(200);
  });

  it('does not throttle at all when loginThrottle is false', async () => {
    const server = await app(false);
    for (let i = 0; i < 15; i++) expect((await attempt(server, 'alice', 'wrong')).status).toBe(401);
    expect((await attempt(server, 'alice', 'alice-password')).status).toBe(200);
  });

  if (kind === 'redis') {
    it('keeps the counters in Redis under the key prefix, with a TTL within the window, and no username in any key', async () => {
      const keyPrefix = uniqueKeyPrefix('throttle-keys');
      const server = await app(
        { perAccountAndIp: { attempts: 5, window: '60s' }, perAccount: { attempts: 5, window: '60s' }, perIp: { attempts: 50, window: '60s' } },
        keyPrefix,
      );
      await attempt(server, 'alice', 'wrong');
      const keys = await inspector.keys(`${keyPrefix}throttle:*`);
      expect(keys.length).toBe(3); // one per account and address, one per account, one per address
      for (const key of keys) {
        expect(key).not.toContain('alice');
        const ttl = await inspector.pttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(60_000);
      }
    });
  }
});

describe('login throttle configuration', () => {
  it.each([
    [{ perAccount: { attempts: 0, window: '1m' } }, 'loginThrottle.perAccount.attempts'],
    [{ perIp: { attempts: 5, window: 'soon' } }, 'loginThrottle.perIp.window'],
    [{ perAccountAndIp: { attempts: 2.5, window: '1m' } }, 'loginThrottle.perAccountAndIp.attempts'],
    [{ perAccountAndIp: { attempts: 3 } }, 'loginThrottle.perAccountAndIp.window'],
    [{ perAcount: { attempts: 3, window: '1m' } }, 'loginThrottle.perAcount'],
    ['on', 'loginThrottle'],
  ])('fails at boot on %j, naming %s', async (loginThrottle, option) => {
    await expect(
      createTestApp({ adapter: 'express', session: { loginThrottle: loginThrottle as LoginThrottleOptions } }),
    ).rejects.toThrow(option);
  });
});
