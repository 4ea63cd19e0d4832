/**
 * The demo's session cap: MAX_SESSIONS_PER_USER with MAX_SESSIONS_POLICY evict-oldest (default)
 * or refuse, so `maxSessionsPerUser` can be tried from the outside.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { readDemoConfig } from '../src/demo/demo-config.js';
import { DemoModule } from '../src/demo/demo.module.js';
import { DemoUsers } from '../src/demo/demo-users.js';
import { ADAPTERS, sessionCookieFrom, startApp, TEST_SECRET, type AdapterName } from './support/test-app.js';

const ALICE = { username: 'alice', password: 'alice-demo-password' };

describe('readDemoConfig: MAX_SESSIONS_PER_USER and MAX_SESSIONS_POLICY', () => {
  const read = (env: NodeJS.ProcessEnv) => readDemoConfig({ SESSION_SECRET: TEST_SECRET, ...env }).session.maxSessionsPerUser;

  it('leaves the module default when unset, and reads a limit with evict-oldest by default or refuse', () => {
    expect(read({})).toBeUndefined();
    expect(read({ MAX_SESSIONS_PER_USER: '3' })).toEqual({ limit: 3, onLimit: 'evict-oldest' });
    expect(read({ MAX_SESSIONS_PER_USER: '2', MAX_SESSIONS_POLICY: 'refuse' })).toEqual({ limit: 2, onLimit: 'refuse' });
  });

  it.each([
    [{ MAX_SESSIONS_PER_USER: 'many' }, 'MAX_SESSIONS_PER_USER'],
    [{ MAX_SESSIONS_PER_USER: '0' }, 'MAX_SESSIONS_PER_USER'],
    [{ MAX_SESSIONS_PER_USER: '3', MAX_SESSIONS_POLICY: 'lru' }, 'MAX_SESSIONS_POLICY'],
    [{ MAX_SESSIONS_POLICY: 'refuse' }, 'MAX_SESSIONS_POLICY'],
  ])('refuses %j with a message naming %s', (env, name) => {
    expect(() => read(env)).toThrow(name);
  });
});

describe.each(ADAPTERS)('the demo with a session cap over %s', (adapter: AdapterName) => {
  let app: INestApplication | undefined;
  let users: DemoUsers;

  beforeAll(async () => {
    users = await DemoUsers.create();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function boot(env: NodeJS.ProcessEnv): Promise<INestApplication> {
    const config = readDemoConfig({ SESSION_SECRET: TEST_SECRET, ...env });
    const moduleRef = await Test.createTestingModule({ imports: [DemoModule.register(config, users, null)] }).compile();
    return startApp(moduleRef, adapter);
  }

  it('refuses the third login of alice with 409 when MAX_SESSIONS_PER_USER=2 and MAX_SESSIONS_POLICY=refuse', async () => {
    app = await boot({ MAX_SESSIONS_PER_USER: '2', MAX_SESSIONS_POLICY: 'refuse' });
    const server = app.getHttpServer();
    await request(server).post('/auth/login').send(ALICE).expect(200);
    await request(server).post('/auth/login').send(ALICE).expect(200);
    await request(server).post('/auth/login').send(ALICE).expect(409);
  });

  it('ends the oldest session of alice at the third login when MAX_SESSIONS_PER_USER=2', async () => {
    app = await boot({ MAX_SESSIONS_PER_USER: '2' });
    const server = app.getHttpServer();
    const oldest = sessionCookieFrom(await request(server).post('/auth/login').send(ALICE).expect(200));
    await request(server).post('/auth/login').send(ALICE).expect(200);
    const newest = sessionCookieFrom(await request(server).post('/auth/login').send(ALICE).expect(200));
    await request(server).get('/auth/me').set('Cookie', oldest).expect(401);
    await request(server).get('/auth/me').set('Cookie', newest).expect(200);
  });
});
