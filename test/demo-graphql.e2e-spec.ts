import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createDemoApp } from '../src/demo/demo-app.js';
import { readDemoConfig } from '../src/demo/demo-config.js';
import { DemoUsers } from '../src/demo/demo-users.js';
import { errorCodes, graphql } from './support/graphql-app.js';
import { ADAPTERS, sessionCookieFrom, TEST_SECRET } from './support/test-app.js';

let users: DemoUsers;
beforeAll(async () => {
  users = await DemoUsers.create();
});

describe.each(ADAPTERS)('the demo GraphQL API at POST /graphql, GRAPHQL=1 (%s)', (adapter) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createDemoApp(readDemoConfig({ SESSION_SECRET: TEST_SECRET, GRAPHQL: '1', ADAPTER: adapter }), users, { logger: false });
    await app.init();
    if (adapter === 'fastify') await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  const loginAs = async (username: string, password: string) =>
    sessionCookieFrom(await request(app.getHttpServer()).post('/auth/login').send({ username, password }).expect(200));

  it('answers me { id roles } for a logged-in user and UNAUTHENTICATED without a credential', async () => {
    expect(errorCodes(await graphql(app, '{ me { id roles } }'))).toEqual(['UNAUTHENTICATED']);
    const cookie = await loginAs('alice', 'alice-demo-password');
    expect((await graphql(app, '{ me { id roles } }', { cookie })).data).toEqual({ me: { id: 'u-alice', roles: ['user'] } });
  });

  it('stores a JSON value with setSessionValue and gives its JSON text back with sessionValue', async () => {
    const cookie = await loginAs('alice', 'alice-demo-password');
    const set = await graphql(app, 'mutation($v: String!) { setSessionValue(key: "cart", value: $v) }', {
      cookie,
      variables: { v: '{"items":[1,2]}' },
    });
    expect(set.data).toEqual({ setSessionValue: true });
    expect((await graphql(app, '{ sessionValue(key: "cart") }', { cookie })).data).toEqual({ sessionValue: '{"items":[1,2]}' });
    expect((await graphql(app, '{ sessionValue(key: "unset") }', { cookie })).data).toEqual({ sessionValue: null });
    // The same session through HTTP: the resolver's write was saved to the store.
    const http = await request(app.getHttpServer()).get('/demo/session').set('Cookie', cookie).expect(200);
    expect(http.body).toMatchObject({ cart: { items: [1, 2] } });
  });

  it('answers bad JSON and a bad key with BAD_USER_INPUT, not a 500', async () => {
    const cookie = await loginAs('alice', 'alice-demo-password');
    const badJson = await graphql(app, 'mutation { setSessionValue(key: "k", value: "{not json") }', { cookie });
    expect(badJson.response.status).toBeLessThan(500);
    expect(errorCodes(badJson)).toEqual(['BAD_USER_INPUT']);
    const badKey = await graphql(app, 'mutation { setSessionValue(key: "__proto__", value: "1") }', { cookie });
    expect(badKey.response.status).toBeLessThan(500);
    expect(errorCodes(badKey)).toEqual(['BAD_USER_INPUT']);
  });

  it('answers adminStats { users } to an admin and FORBIDDEN to another user', async () => {
    const alice = await loginAs('alice', 'alice-demo-password');
    expect(errorCodes(await graphql(app, '{ adminStats { users } }', { cookie: alice }))).toEqual(['FORBIDDEN']);
    const admin = await loginAs('admin', 'admin-demo-password');
    expect((await graphql(app, '{ adminStats { users } }', { cookie: admin })).data).toEqual({ adminStats: { users: 2 } });
  });
});

describe('the demo without GRAPHQL=1', () => {
  it('serves no /graphql', async () => {
    const app = await createDemoApp(readDemoConfig({ SESSION_SECRET: TEST_SECRET }), users, { logger: false });
    await app.init();
    try {
      expect((await request(app.getHttpServer()).post('/graphql').send({ query: '{ me { id } }' })).status).toBe(404);
    } finally {
      await app.close();
    }
  });
});
