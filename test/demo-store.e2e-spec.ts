/**
 * The demo's store from its environment (src/demo/demo-store.ts): one Redis URL, a Cluster's
 * nodes or Sentinels with their master name; two sources at once, or half a Sentinel setting,
 * stop the demo at boot with a message naming the variables.
 */
import { readDemoConfig } from '../src/demo/demo-config.js';
import { TEST_SECRET } from './support/test-app.js';

const storeOf = (env: NodeJS.ProcessEnv) => readDemoConfig({ SESSION_SECRET: TEST_SECRET, ...env }).session.store;

describe('the demo store from REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS', () => {
  it('connects a Cluster client to REDIS_CLUSTER_NODES', () => {
    expect(storeOf({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001' })).toEqual({
      type: 'redis',
      cluster: { nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }] },
      keyPrefix: 'demo-sess:',
    });
  });

  it('connects through REDIS_SENTINELS to the master named by REDIS_SENTINEL_NAME', () => {
    expect(storeOf({ REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2:26379', REDIS_SENTINEL_NAME: 'sessions', REDIS_KEY_PREFIX: 'x:' })).toEqual({
      type: 'redis',
      options: { sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }], name: 'sessions' },
      keyPrefix: 'x:',
    });
  });

  it.each([
    [{ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000' }, /REDIS_URL and REDIS_CLUSTER_NODES are both set/],
    [{ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 's' }, /REDIS_URL and REDIS_SENTINELS/],
    [{ REDIS_SENTINELS: '127.0.0.1:26379' }, /REDIS_SENTINELS needs REDIS_SENTINEL_NAME/],
    [{ REDIS_SENTINEL_NAME: 'sessions' }, /REDIS_SENTINEL_NAME needs REDIS_SENTINELS/],
    [{ REDIS_CLUSTER_NODES: '127.0.0.1' }, /REDIS_CLUSTER_NODES has "127.0.0.1"/],
  ])('refuses %j at boot', (env, message) => {
    expect(() => storeOf(env)).toThrow(message);
  });

  it('keeps the memory store without any of them, and REDIS_URL as before', () => {
    expect(storeOf({})).toEqual({ type: 'memory' });
    expect(storeOf({ REDIS_URL: 'redis://127.0.0.1:6379' })).toEqual({ type: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: 'demo-sess:' });
  });
});
