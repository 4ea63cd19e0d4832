import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { createDemoApp } from '../src/demo/demo-app.js';
import { readDemoConfig } from '../src/demo/demo-config.js';
import { readSignedRequestKeys } from '../src/demo/demo-signed.js';
import { DemoModule } from '../src/demo/demo.module.js';
import { DemoUsers } from '../src/demo/demo-users.js';
import { signRequest } from '../src/index.js';
import { ADAPTERS, TEST_SECRET, type AdapterName } from './support/test-app.js';

const KID1 = 'kid1-demo-secret-that-is-long-enough-000';
const KID2 = 'kid2-demo-secret:with-a-colon-long-enough';

describe('readSignedRequestKeys', () => {
  it('reads SIGNED_REQUEST_KEYS as key id:secret pairs, and nothing when unset', () => {
    expect(readSignedRequestKeys({ SIGNED_REQUEST_KEYS: `kid1:${KID1},kid2:${KID2}` })).toEqual({ kid1: KID1, kid2: KID2 });
    expect(readSignedRequestKeys({})).toBeNull();
  });

  it.each([['kid1'], [':secret-that-is-long-enough-0123456789'], ['kid1:short'], [`kid1:${KID1},kid1:${KID1}`]])(
    'rejects SIGNED_REQUEST_KEYS=%j with a message naming it',
    (SIGNED_REQUEST_KEYS) => {
      expect(() => readSignedRequestKeys({ SIGNED_REQUEST_KEYS })).toThrow(/SIGNED_REQUEST_KEYS/);
    },
  );
});

describe.each(ADAPTERS)('POST /demo/signed (%s)', (adapter: AdapterName) => {
  let app: INestApplication;

  beforeAll(async () => {
    const users = await DemoUsers.create();
    const config = readDemoConfig({ SESSION_SECRET: TEST_SECRET });
    const keys = readSignedRequestKeys({ SIGNED_REQUEST_KEYS: `kid1:${KID1},kid2:${KID2}` });
    const moduleRef = await Test.createTestingModule({ imports: [DemoModule.register(config, users, keys)] }).compile();
    app = adapter === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter() as never, { rawBody: true }) : moduleRef.createNestApplication({ rawBody: true });
    app.useLogger(false);
    await app.init();
    if (adapter === 'fastify') await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  it('answers a request signed with kid2 with { keyId: "kid2" }', async () => {
    const body = '{"ping":true}';
    const headers = signRequest({ keyId: 'kid2', secret: KID2, method: 'POST', target: '/demo/signed', body });
    const response = await request(app.getHttpServer()).post('/demo/signed').set(headers).set('Content-Type', 'application/json').send(body).expect(200);
    expect(response.body).toEqual({ keyId: 'kid2' });
  });

  it('refuses an unsigned request with 401', async () => {
    await request(app.getHttpServer()).post('/demo/signed').expect(401);
  });
});

it('has no /demo/signed without SIGNED_REQUEST_KEYS', async () => {
  const users = await DemoUsers.create();
  const moduleRef = await Test.createTestingModule({ imports: [DemoModule.register(readDemoConfig({ SESSION_SECRET: TEST_SECRET }), users, null)] }).compile();
  const app = moduleRef.createNestApplication();
  app.useLogger(false);
  await app.init();
  await request(app.getHttpServer()).post('/demo/signed').expect(404);
  await app.close();
});

describe.each(ADAPTERS)('the demo app as npm start builds it (%s)', (adapter: AdapterName) => {
  let app: INestApplication;
  const saved = process.env.SIGNED_REQUEST_KEYS;

  beforeAll(async () => {
    process.env.SIGNED_REQUEST_KEYS = `kid1:${KID1}`;
    const config = readDemoConfig({ SESSION_SECRET: TEST_SECRET, ADAPTER: adapter });
    app = await createDemoApp(config, await DemoUsers.create(), { logger: false });
    await app.init();
    if (adapter === 'fastify') await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.SIGNED_REQUEST_KEYS;
    else process.env.SIGNED_REQUEST_KEYS = saved;
    await app?.close();
  });

  it('keeps the raw body, so a signed request with a body passes', async () => {
    const body = '{"ping":true}';
    const headers = signRequest({ keyId: 'kid1', secret: KID1, method: 'POST', target: '/demo/signed', body });
    const response = await request(app.getHttpServer()).post('/demo/signed').set(headers).set('Content-Type', 'application/json').send(body).expect(200);
    expect(response.body).toEqual({ keyId: 'kid1' });
  });
});
