/**
 * A private, throw-away Redis Cluster for tests: 6 redis-server processes (3 masters, 3
 * replicas) on free ports, each with its own temporary directory and cluster-config-file, joined
 * with `redis-cli --cluster create`. Stopped, and the directories removed, in `stop()`, and also
 * when the test process exits (the servers die with it through redis-server.ts's watchdog).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askNode, pidOf } from './redis-node.js';
import { getFreePort } from './free-port.js';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';

export interface ClusterNodeHandle {
  readonly port: number;
  readonly server: RedisServerHandle;
  /** The redis-server process id (to SIGKILL or SIGSTOP it). */
  pid(): Promise<number>;
}

export interface RedisClusterHandle {
  readonly nodes: ClusterNodeHandle[];
  /** `127.0.0.1:port` of every node, the seed list for a Cluster client. */
  readonly seeds: string[];
  /** The nodes that are masters right now, each with the slot ranges it serves. */
  masters(): Promise<Array<{ port: number; slots: Array<[number, number]> }>>;
  /** The port of the master serving `slot` right now. */
  masterOf(slot: number): Promise<number>;
  /** The slot of `key` (CLUSTER KEYSLOT). */
  slotOf(key: string): Promise<number>;
  /** Waits until every master's replicas have received everything it has written so far. */
  waitForReplication(timeoutMs?: number): Promise<void>;
  /** Waits until every node that is up reports cluster_state:ok and every slot has a master that is up. */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Short node timeout: a dead master is noticed and replaced in about two seconds, not fifteen. */
const NODE_TIMEOUT_MS = 1_000;
const READY_TIMEOUT_MS = 20_000;
const NODES = 6;

/** The real process: Jest's stand-in `process` never emits 'exit' to test code. */
const hostProcess = (Buffer as unknown as { constructor: FunctionConstructor }).constructor('return process')() as NodeJS.Process;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function redisCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.REDIS_CLI_BIN ?? 'redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', (error) => reject(new Error(`redis-cli could not start (install redis-tools): ${error.message}`)));
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`redis-cli ${args.join(' ')} failed:\n${output}`))));
  });
}


export async function startRedisCluster(): Promise<RedisClusterHandle> {
  const root = mkdtempSync(join(tmpdir(), 'session-auth-cluster-'));
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  hostProcess.once('exit', removeRoot);
  const nodes: ClusterNodeHandle[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.server.stop()));
    removeRoot();
    hostProcess.off('exit', removeRoot);
  };
  try {
    for (let index = 0; index < NODES; index++) {
      const dir = mkdtempSync(join(root, `node-${index}-`));
      // The bus port is chosen too: the default (port + 10000) may be taken or past 65535.
      const server = await startRedisServer({
        args: [
          '--cluster-enabled', 'yes',
          '--cluster-config-file', join(dir, 'nodes.conf'),
          '--cluster-port', String(await getFreePort()),
          '--cluster-node-timeout', String(NODE_TIMEOUT_MS),
          // A replica may always take over, however long it was cut off: tests kill masters at will.
          '--cluster-replica-validity-factor', '0',
          // While a dead master's slots wait for its replica, the other masters keep answering
          // (the default, yes, makes the whole cluster refuse commands until the promotion).
          '--cluster-require-full-coverage', 'no',
          '--dir', dir,
        ],
      });
      const port = server.port;
      nodes.push({ port, server, pid: () => pidOf(port) });
    }
    await redisCli(['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '1', '--cluster-yes']);
    const handle = clusterHandle(nodes, stop);
    await handle.waitUntilHealthy();
    return handle;
  } catch (error) {
    await stop();
    throw error;
  }
}

function clusterHandle(nodes: ClusterNodeHandle[], stop: () => Promise<void>): RedisClusterHandle {
  const upNodes = async () => {
    const alive = await Promise.all(nodes.map((node) => askNode(node.port, (redis) => redis.ping()).then(() => node.port, () => null)));
    return alive.filter((port): port is number => port !== null);
  };
  const slotTable = async () => {
    for (const port of await upNodes()) {
      const slots = await askNode(port, (redis) => redis.cluster('SLOTS') as unknown as Promise<Array<[number, number, [string, number]]>>).catch(() => null);
      if (slots) return slots;
    }
    throw new Error('no cluster node answered CLUSTER SLOTS');
  };
  const masters = async () => {
    const byPort = new Map<number, Array<[number, number]>>();
    for (const [from, to, [, port]] of await slotTable()) byPort.set(port, [...(byPort.get(port) ?? []), [from, to]]);
    return [...byPort].map(([port, slots]) => ({ port, slots })).sort((a, b) => a.slots[0][0] - b.slots[0][0]);
  };
  return {
    nodes,
    seeds: nodes.map((node) => `127.0.0.1:${node.port}`),
    masters,
    async masterOf(slot) {
      const owner = (await masters()).find(({ slots }) => slots.some(([from, to]) => slot >= from && slot <= to));
      if (!owner) throw new Error(`no master serves slot ${slot}`);
      return owner.port;
    },
    async slotOf(key) {
      return askNode((await upNodes())[0], (redis) => redis.cluster('KEYSLOT', key) as Promise<number>);
    },
    async waitForReplication(timeoutMs = READY_TIMEOUT_MS) {
      const deadline = Date.now() + timeoutMs;
      for (const { port } of await masters()) {
        const target = Number(/master_repl_offset:(\d+)/.exec(await askNode(port, (redis) => redis.info('replication')))![1]);
        for (;;) {
          const info = await askNode(port, (redis) => redis.info('replication'));
          const offsets = [...info.matchAll(/slave\d+:.*offset=(\d+)/g)].map((match) => Number(match[1]));
          if (offsets.length > 0 && offsets.every((offset) => offset >= target)) break;
          if (Date.now() > deadline) throw new Error(`the replicas of ${port} did not catch up within ${timeoutMs} ms:\n${info}`);
          await sleep(50);
        }
      }
    },
    async waitUntilHealthy(timeoutMs = READY_TIMEOUT_MS) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        try {
          const up = await upNodes();
          const states = await Promise.all(up.map((port) => askNode(port, (redis) => redis.cluster('INFO') as Promise<string>)));
          const ok = states.every((info) => /cluster_state:ok/.test(info));
          const servedByLiveMasters = (await masters()).every(({ port }) => up.includes(port));
          const covered = (await masters()).reduce((sum, { slots }) => sum + slots.reduce((n, [from, to]) => n + to - from + 1, 0), 0) === 16384;
          if (ok && servedByLiveMasters && covered) return;
          last = `ok=${ok} servedByLiveMasters=${servedByLiveMasters} covered=${covered}`;
        } catch (error) {
          last = String(error);
        }
        await sleep(100);
      }
      throw new Error(`the test cluster did not become healthy within ${timeoutMs} ms (${last})`);
    },
    stop,
  };
}
