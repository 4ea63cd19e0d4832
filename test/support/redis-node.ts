import { Redis } from 'ioredis';

/**
 * One short-lived connection to one redis-server (or sentinel) of a test topology, that never
 * reconnects and never waits long: the node may be dead or frozen.
 */
export async function askNode<T>(port: number, question: (node: Redis) => Promise<T>): Promise<T> {
  const node = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 500, commandTimeout: 1_000 });
  node.on('error', () => undefined);
  try {
    await node.connect();
    return await question(node);
  } finally {
    node.disconnect();
  }
}

/** The process id of the redis-server on `port`, to SIGKILL or SIGSTOP it. */
export function pidOf(port: number): Promise<number> {
  return askNode(port, async (node) => Number(/process_id:(\d+)/.exec(await node.info('server'))![1]));
}
