import type { Redis } from 'ioredis';

/** Commands the bench itself sends while it counts; never charged to the app. */
const OWN_COMMANDS = new Set(['info']);

/** Calls per command so far, from `INFO commandstats` (commands run inside scripts included). */
export async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match && !OWN_COMMANDS.has(match[1])) calls.set(match[1], Number(match[2]));
  }
  return calls;
}

/** Commands per request between two snapshots, e.g. `{ evalsha: 1, getex: 1 }`. */
export function commandsPerRequest(before: Map<string, number>, after: Map<string, number>, requests: number): Record<string, number> {
  const perRequest: Record<string, number> = {};
  for (const [command, calls] of after) {
    const added = calls - (before.get(command) ?? 0);
    if (added > 0 && requests > 0) perRequest[command] = added / requests;
  }
  return perRequest;
}

export async function keysWithPrefix(redis: Redis, prefix: string): Promise<Set<string>> {
  const keys = new Set<string>();
  // The prefix is the bench's own and holds no glob characters.
  for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
    for (const key of batch as string[]) keys.add(key);
  }
  return keys;
}

export interface KeyFootprint {
  /** The key without the variant's prefix. */
  key: string;
  type: string;
  encoding: string;
  bytes: number;
}

/** What the keys cost in Redis memory: `MEMORY USAGE key SAMPLES 0` (every element counted). */
export async function footprint(redis: Redis, prefix: string, keys: Iterable<string>): Promise<KeyFootprint[]> {
  const result: KeyFootprint[] = [];
  for (const key of keys) {
    const [bytes, type, encoding] = await Promise.all([
      redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0') as Promise<number | null>,
      redis.type(key),
      redis.call('OBJECT', 'ENCODING', key) as Promise<string | null>,
    ]);
    result.push({ key: key.slice(prefix.length), type, encoding: encoding ?? '?', bytes: bytes ?? 0 });
  }
  return result.sort((a, b) => b.bytes - a.bytes);
}
