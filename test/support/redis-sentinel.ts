/**
 * A private, throw-away Redis Sentinel set for tests: one master, two replicas and three
 * sentinels (quorum 2) on free ports, with short timeouts so a dead master is replaced in a few
 * seconds. Stopped, and its directory removed, in `stop()` or when the test process exits.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askNode, pidOf } from './redis-node.js';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';

export const SENTINEL_MASTER_NAME = 'sessions';
/** How long a master may be silent before a sentinel calls it down. */
const DOWN_AFTER_MS = 1_000;
const FAILOVER_TIMEOUT_MS = 5_000;
const READY_TIMEOUT_MS = 20_000;

export interface RedisSentinelHandle {
  /** The data nodes, master first (as started; after a failover another one is master). */
  readonly servers: RedisServerHandle[];
  readonly sentinels: RedisServerHandle[];
  /** `{ host, port }` of every sentinel, as ioredis wants them. */
  readonly addresses: Array<{ host: string; port: number }>;
  /** The port the sentinels name as master right now. */
  masterPort(): Promise<number>;
  /** The process id of the redis-server on `port`. */
  pidOf(port: number): Promise<number>;
  /** Waits until the master's replicas have received everything it has written so far. */
  waitForReplication(): Promise<void>;
  stop(): Promise<void>;
}

const hostProcess = (Buffer as unknown as { constructor: FunctionConstructor }).constructor('return process')() as NodeJS.Process;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));


async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`the test sentinel set: ${what} within ${READY_TIMEOUT_MS} ms`);
}

export async function startRedisSentinel(): Promise<RedisSentinelHandle> {
  const root = mkdtempSync(join(tmpdir(), 'session-auth-sentinel-'));
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  hostProcess.once('exit', removeRoot);
  const servers: RedisServerHandle[] = [];
  const sentinels: RedisServerHandle[] = [];
  const stop = async () => {
    await Promise.all([...sentinels, ...servers].map((server) => server.stop()));
    removeRoot();
    hostProcess.off('exit', removeRoot);
  };
  const replicationOf = (port: number) => askNode(port, (node) => node.info('replication'));
  try {
    const master = await startRedisServer({ args: ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'] });
    servers.push(master);
    for (let i = 0; i < 2; i++) {
      servers.push(await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(master.port), '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'] }));
    }
    await waitFor('the replicas did not sync', async () => (await replicationOf(master.port)).match(/state=online/g)?.length === 2);
    for (let i = 0; i < 3; i++) {
      // Each sentinel rewrites its own config file, so each gets its own.
      const configFile = join(root, `sentinel-${i}.conf`);
      writeFileSync(
        configFile,
        [
          `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${SENTINEL_MASTER_NAME} ${FAILOVER_TIMEOUT_MS}`,
          `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 2`,
          '',
        ].join('\n'),
      );
      sentinels.push(await startRedisServer({ configFile, args: ['--sentinel'] }));
    }
    // Every sentinel must know both replicas and the other two sentinels before a failover can be agreed.
    for (const sentinel of sentinels) {
      await waitFor('the sentinels did not find each other and the replicas', async () => {
        const fields = (await askNode(sentinel.port, (node) => node.call('SENTINEL', 'MASTER', SENTINEL_MASTER_NAME))) as string[];
        const info = Object.fromEntries(fields.flatMap((value, index) => (index % 2 === 0 ? [[value, fields[index + 1]]] : [])));
        return info['num-slaves'] === '2' && info['num-other-sentinels'] === '2';
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const masterPort = async () => {
    for (const sentinel of sentinels) {
      const address = await askNode(sentinel.port, (node) => node.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME) as Promise<[string, string]>).catch(() => null);
      if (address) return Number(address[1]);
    }
    throw new Error('no sentinel answered');
  };
  return {
    servers,
    sentinels,
    addresses: sentinels.map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port })),
    masterPort,
    pidOf,
    async waitForReplication() {
      const port = await masterPort();
      const target = Number(/master_repl_offset:(\d+)/.exec(await replicationOf(port))![1]);
      await waitFor('the replicas did not catch up', async () => {
        const offsets = [...(await replicationOf(port)).matchAll(/slave\d+:.*offset=(\d+)/g)].map((match) => Number(match[1]));
        return offsets.length === 2 && offsets.every((offset) => offset >= target);
      });
    },
    stop,
  };
}
