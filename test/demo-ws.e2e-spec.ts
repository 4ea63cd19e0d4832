import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createDemoApp } from '../src/demo/demo-app.js';
import { readDemoConfig } from '../src/demo/demo-config.js';
import { DemoUsers } from '../src/demo/demo-users.js';
import { ADAPTERS, sessionCookieFrom, TEST_SECRET } from './support/test-app.js';
import { openWs, wsUrl } from './support/ws-client.js';

let users: DemoUsers;
beforeAll(async () => {
  users = await DemoUsers.create();
});

describe.each(ADAPTERS)('the demo gateway on /ws, WEBSOCKETS=1 (%s)', (adapter) => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    app = await createDemoApp(readDemoConfig({ SESSION_SECRET: TEST_SECRET, WEBSOCKETS: '1', ADAPTER: adapter }), users, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = wsUrl(app, '/ws');
  });
  afterAll(() => app.close());

  const loginCookie = async () =>
    sessionCookieFrom(
      await request(app.getHttpServer()).post('/auth/login').send({ username: 'alice', password: 'alice-demo-password' }).expect(200),
    );

  it('answers whoami with the user of the handshake cookie', async () => {
    const client = await openWs(url, { Cookie: await loginCookie() });
    client.send('whoami');
    expect(await client.next()).toEqual({ event: 'whoami', data: { user: { id: 'u-alice', username: 'alice', roles: ['user'] } } });
    client.socket.close();
  });

  it('closes an unauthenticated connection with 4401', async () => {
    const client = await openWs(url);
    client.send('whoami');
    expect(await client.closed).toMatchObject({ code: 4401 });
  });

  it('closes a connection with a forged cookie with 4401', async () => {
    const client = await openWs(url, { Cookie: 'sid=forged.cookie' });
    expect(await client.closed).toMatchObject({ code: 4401 });
  });

  it('closes the socket with 4401 when its session logs out over HTTP', async () => {
    const cookie = await loginCookie();
    const client = await openWs(url, { Cookie: cookie });
    client.send('whoami');
    await client.next();
    await request(app.getHttpServer()).post('/auth/logout').set('Cookie', cookie).expect(204);
    expect(await client.closed).toMatchObject({ code: 4401, reason: 'session ended' });
  });
});
