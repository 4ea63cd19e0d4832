/**
 * The app the Cluster outage and failover suites drive: session mode over Express on the
 * suite's own cluster, listening on a free port; any user logs in with the password 'pw'.
 */
import type { INestApplication } from '@nestjs/common';
import type { AuthUser } from '../../src/index.js';
import type { RedisClusterHandle } from './redis-cluster.js';
import { createTestApp } from './test-app.js';

export async function listenOnCluster(
  cluster: RedisClusterHandle,
  keyPrefix: string,
  operationTimeoutMs: number,
): Promise<{ app: INestApplication; baseUrl: string }> {
  const app = await createTestApp({
    adapter: 'express',
    session: {
      store: { type: 'redis', cluster: { nodes: cluster.seeds }, keyPrefix, operationTimeoutMs },
      validateUser: async (username, password): Promise<AuthUser | null> => (password === 'pw' ? { id: username } : null),
    },
  });
  await app.listen(0, '127.0.0.1');
  return { app, baseUrl: await app.getUrl() };
}
