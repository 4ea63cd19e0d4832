/** The process behind a test's redis-server, to freeze (SIGSTOP), thaw and kill it, and waiting for recovery. */
import { Redis } from 'ioredis';

/** The pid of the redis-server answering at `url` (one the suite started), from INFO server. */
export async function redisPid(url: string): Promise<number> {
  const inspector = new Redis(url);
  try {
    return Number(/process_id:(\d+)/.exec(await inspector.info('server'))![1]);
  } finally {
    await inspector.quit();
  }
}

/** Calls `attempt` until `done` holds for its answer or `timeoutMs` passes; the last answer either way. */
export async function eventually<T>(attempt: () => Promise<T>, done: (answer: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let answer = await attempt();
  while (!done(answer) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    answer = await attempt();
  }
  return answer;
}
