import { Redis } from 'ioredis';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';

function client(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
}

async function pingOnce(url: string): Promise<string> {
  const redis = client(url);
  try {
    await redis.connect();
    return await redis.ping();
  } finally {
    // ioredis quirk: disconnect() on an already-closed client arms a 2s
    // timer that is never cleared (keeps jest alive), so skip it then.
    if (redis.status !== 'end') redis.disconnect();
  }
}

describe('test/support/redis-server', () => {
  let server: RedisServerHandle;

  beforeAll(async () => {
    server = await startRedisServer();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('starts a private redis-server on a free port', async () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.port).not.toBe(6379);
    expect(await pingOnce(server.url)).toBe('PONG');
  });

  it('passes extra args through', async () => {
    const other = await startRedisServer({ args: ['--maxmemory', '12mb'] });
    try {
      const redis = client(other.url);
      await redis.connect();
      const res = (await redis.config('GET', 'maxmemory')) as string[];
      redis.disconnect();
      expect(res[1]).toBe(String(12 * 1024 * 1024));
      expect(other.port).not.toBe(server.port);
    } finally {
      await other.stop();
    }
  });

  it('stop() makes connections fail, restart() brings it back on the same port', async () => {
    const port = server.port;
    await server.stop();
    await expect(pingOnce(server.url)).rejects.toThrow();

    await server.restart();
    expect(server.port).toBe(port);
    expect(await pingOnce(server.url)).toBe('PONG');
  });

  it('restart() also works while the server is running', async () => {
    const redis = client(server.url);
    await redis.connect();
    await redis.set('k', 'v');
    redis.disconnect();
    await server.restart();
    // --save "" and no AOF: data does not survive a restart
    const again = client(server.url);
    await again.connect();
    expect(await again.get('k')).toBeNull();
    again.disconnect();
  });
});
