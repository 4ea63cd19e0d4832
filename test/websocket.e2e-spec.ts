import type { INestApplication } from '@nestjs/common';
import { SocketSessions } from '../src/index.js';
import { http, login } from './support/http-helpers.js';
import { hs256Secret, tokenLogin } from './support/jwt-helpers.js';
import { ADAPTERS } from './support/test-app.js';
import { openWs, wsUrl } from './support/ws-client.js';
import { createWsApp } from './support/ws-app.js';

describe.each(ADAPTERS)('guards and decorators on a WebSocket gateway (%s)', (adapter) => {
  describe('hybrid mode, memory store', () => {
    let app: INestApplication;
    let url: string;
    beforeAll(async () => {
      app = await createWsApp(adapter, { mode: 'hybrid', jwt: { keys: [{ kid: 'k1', alg: 'HS256', secret: hs256Secret() }] } });
      url = wsUrl(app, '/ws');
    });
    afterAll(() => app.close());

    it('takes the session cookie of the handshake: @CurrentUser and @CurrentSession on every message', async () => {
      const { cookie } = await login(app, 'alice');
      const client = await openWs(url, { Cookie: cookie });
      for (let round = 0; round < 2; round += 1) {
        client.send('whoami');
        expect(await client.next()).toMatchObject({ event: 'whoami', data: { user: { id: 'u-alice', name: 'Alice' }, via: 'cookie' } });
      }
      client.socket.close();
    });

    it('takes Authorization: Bearer on the handshake, and JwtGuard accepts it but not a cookie socket', async () => {
      const { accessToken } = await tokenLogin(app, 'alice');
      const bearer = await openWs(url, { Authorization: `Bearer ${accessToken}` });
      bearer.send('bearer');
      expect(await bearer.next()).toEqual({ event: 'bearer', data: { id: 'u-alice' } });
      bearer.socket.close();

      const { cookie } = await login(app, 'alice');
      const cookieSocket = await openWs(url, { Cookie: cookie });
      cookieSocket.send('bearer');
      // Refused by JwtGuard as a WsException, which the ws adapter sends as an "exception" event; the socket stays open.
      expect(await cookieSocket.next()).toMatchObject({ event: 'exception', data: { status: 'error', message: 'Unauthorized' } });
      cookieSocket.send('whoami');
      expect(await cookieSocket.next()).toMatchObject({ event: 'whoami' });
      cookieSocket.socket.close();
    });

    it('takes a token in the first message from clients that cannot set headers', async () => {
      const { accessToken } = await tokenLogin(app, 'alice');
      const client = await openWs(url);
      client.send('authenticate', { token: accessToken });
      client.send('whoami');
      expect(await client.next()).toMatchObject({ event: 'whoami', data: { user: { id: 'u-alice' }, via: 'bearer' } });
      client.socket.close();
    });

    it('closes with 4401 when the first message of a socket without credential is not an authentication, or its token is bad', async () => {
      const other = await openWs(url);
      other.send('whoami');
      expect(await other.closed).toMatchObject({ code: 4401 });
      const forged = await openWs(url);
      forged.send('authenticate', { token: 'not-a-token' });
      expect(await forged.closed).toMatchObject({ code: 4401 });
    });

    it('refuses a role the user lacks with a WsException without closing the socket, and lets the role through', async () => {
      const alice = await openWs(url, { Cookie: (await login(app, 'alice')).cookie });
      alice.send('admin');
      expect(await alice.next()).toMatchObject({ event: 'exception', data: { status: 'error', message: 'Forbidden' } });
      alice.send('whoami');
      expect(await alice.next()).toMatchObject({ event: 'whoami' });
      alice.socket.close();
      const root = await openWs(url, { Cookie: (await login(app, 'root')).cookie });
      root.send('admin');
      expect(await root.next()).toEqual({ event: 'admin', data: { ok: true } });
      root.socket.close();
    });

    it('refuses a cookie handshake from another site with 4403 (cross-site WebSocket hijacking)', async () => {
      const { cookie } = await login(app, 'alice');
      const client = await openWs(url, { Cookie: cookie, Origin: 'https://evil.example' });
      expect(await client.closed).toMatchObject({ code: 4403 });
    });

    it('stops watching a socket once it is closed', async () => {
      const sockets = app.get(SocketSessions);
      const before = sockets.watchedSockets;
      const client = await openWs(url, { Cookie: (await login(app, 'alice')).cookie });
      client.send('whoami');
      await client.next();
      expect(sockets.watchedSockets).toBe(before + 1);
      client.socket.close();
      await client.closed;
      for (const deadline = Date.now() + 5_000; sockets.watchedSockets !== before && Date.now() < deadline; ) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(sockets.watchedSockets).toBe(before);
    });
  });

  describe('session mode, revoked over HTTP on the same instance', () => {
    let app: INestApplication;
    let url: string;
    beforeAll(async () => {
      app = await createWsApp(adapter);
      url = wsUrl(app, '/ws');
    });
    afterAll(() => app.close());

    it('a message after the session ended closes the socket too', async () => {
      const { cookie } = await login(app, 'alice');
      const client = await openWs(url, { Cookie: cookie });
      client.send('whoami');
      await client.next();
      await http(app).post('/auth/logout').set('Cookie', cookie).expect(204);
      expect(await client.closed).toMatchObject({ code: 4401 });
    });

    it('keeps the sockets of other sessions open when one session logs out', async () => {
      const first = await login(app, 'alice');
      const second = await login(app, 'alice');
      const a = await openWs(url, { Cookie: first.cookie });
      const b = await openWs(url, { Cookie: second.cookie });
      await http(app).post('/auth/logout').set('Cookie', first.cookie).expect(204);
      expect(await a.closed).toMatchObject({ code: 4401 });
      b.send('whoami');
      expect(await b.next()).toMatchObject({ event: 'whoami' });
      b.socket.close();
    });
  });
});

