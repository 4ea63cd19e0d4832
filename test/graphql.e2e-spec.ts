import type { INestApplication } from '@nestjs/common';
import { createGraphqlApp, errorCodes, graphql } from './support/graphql-app.js';
import { login, sessionSetCookie, sleep, uniqueKeyPrefix } from './support/http-helpers.js';
import { hs256Secret } from './support/jwt-helpers.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { ADAPTERS, type AdapterName } from './support/test-app.js';

const DRIVER: Record<AdapterName, string> = { express: 'Apollo on Express', fastify: 'Mercurius on Fastify' };

describe.each(ADAPTERS)('GraphQL resolvers (%s)', (adapter) => {
  describe(`session mode, ${DRIVER[adapter]}`, () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await createGraphqlApp(adapter);
    });
    afterAll(() => app.close());

    it('refuses a guarded query without a credential with UNAUTHENTICATED, not a 500', async () => {
      const answer = await graphql(app, '{ me { id } }');
      expect(answer.response.status).toBeLessThan(500);
      expect(errorCodes(answer)).toEqual(['UNAUTHENTICATED']);
      expect(answer.data).toBeNull();
    });

    it('refuses a forged cookie with UNAUTHENTICATED', async () => {
      const answer = await graphql(app, '{ me { id } }', { cookie: 'sid=forged.value' });
      expect(errorCodes(answer)).toEqual(['UNAUTHENTICATED']);
    });

    it('answers a guarded query with the cookie of an HTTP login, through AuthenticatedGuard and @CurrentUser', async () => {
      const { cookie } = await login(app, 'alice');
      const answer = await graphql(app, '{ me { id name roles } cookieMe { id } }', { cookie });
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toEqual({ me: { id: 'u-alice', name: 'Alice', roles: ['user'] }, cookieMe: { id: 'u-alice' } });
      expect(answer.response.headers['cache-control']).toBe('no-store');
    });

    it('logs in through a mutation: AuthService.login with the session from the context sets the cookie', async () => {
      const answer = await graphql(app, 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { user { id } } }', {
        variables: { u: 'alice', p: 'alice-password' },
      });
      expect(answer.errors).toBeUndefined();
      const cookie = sessionSetCookie(answer.response);
      expect(cookie.attributes.get('httponly')).toBe(true);
      const me = await graphql(app, '{ me { id } }', { cookie: `sid=${cookie.value}` });
      expect(me.data).toEqual({ me: { id: 'u-alice' } });
    });

    it('saves session data written in a resolver, as a controller would', async () => {
      const { cookie } = await login(app, 'alice');
      const set = await graphql(app, 'mutation { setNote(text: "from a resolver") }', { cookie });
      expect(set.data).toEqual({ setNote: true });
      expect((await graphql(app, '{ note }', { cookie })).data).toEqual({ note: 'from a resolver' });
    });

    it('refuses a role the user lacks with FORBIDDEN and lets the role through', async () => {
      const alice = await login(app, 'alice');
      expect(errorCodes(await graphql(app, '{ adminOnly }', { cookie: alice.cookie }))).toEqual(['FORBIDDEN']);
      const root = await login(app, 'root');
      expect((await graphql(app, '{ adminOnly }', { cookie: root.cookie })).data).toEqual({ adminOnly: 42 });
    });

    it('applies @RequireFreshLogin on a resolver: a fresh password login passes, no credential is UNAUTHENTICATED', async () => {
      expect(errorCodes(await graphql(app, '{ freshOnly }'))).toEqual(['UNAUTHENTICATED']);
      const { cookie } = await login(app, 'alice');
      expect((await graphql(app, '{ freshOnly }', { cookie })).data).toEqual({ freshOnly: true });
    });

    it('refuses JwtGuard for a cookie with UNAUTHENTICATED', async () => {
      const { cookie } = await login(app, 'alice');
      expect(errorCodes(await graphql(app, '{ bearerMe { id } }', { cookie }))).toEqual(['UNAUTHENTICATED']);
    });

    it('logs out through a mutation: the cookie stops working', async () => {
      const { cookie } = await login(app, 'alice');
      expect((await graphql(app, 'mutation { logout }', { cookie })).data).toEqual({ logout: true });
      expect(errorCodes(await graphql(app, '{ me { id } }', { cookie }))).toEqual(['UNAUTHENTICATED']);
    });

    it('refuses a cookie-authenticated mutation from another site with FORBIDDEN', async () => {
      const { cookie } = await login(app, 'alice');
      const answer = await graphql(app, 'mutation { setNote(text: "forged") }', { cookie, headers: { 'Sec-Fetch-Site': 'cross-site' } });
      expect(errorCodes(answer)).toEqual(['FORBIDDEN']);
    });
  });

  describe(`jwt mode, ${DRIVER[adapter]}`, () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await createGraphqlApp(adapter, { mode: 'jwt', jwt: { keys: [{ kid: 'k1', alg: 'HS256', secret: hs256Secret() }] } });
    });
    afterAll(() => app.close());

    it('takes the bearer token of a login mutation on JwtGuard and refuses a changed one', async () => {
      const login = await graphql(app, 'mutation { login(username: "alice", password: "alice-password") { accessToken } }');
      const token = (login.data as { login: { accessToken: string } }).login.accessToken;
      expect(typeof token).toBe('string');
      const ok = await graphql(app, '{ bearerMe { id } }', { headers: { Authorization: `Bearer ${token}` } });
      expect(ok.data).toEqual({ bearerMe: { id: 'u-alice' } });
      const tampered = `${token.slice(0, -2)}${token.endsWith('A') ? 'B' : 'A'}x`;
      expect(errorCodes(await graphql(app, '{ bearerMe { id } }', { headers: { Authorization: `Bearer ${tampered}` } }))).toEqual([
        'UNAUTHENTICATED',
      ]);
    });
  });

  describe(`Redis outage, ${DRIVER[adapter]}`, () => {
    let redis: RedisServerHandle;
    let app: INestApplication;
    beforeAll(async () => {
      redis = await startRedisServer();
      app = await createGraphqlApp(adapter, {
        store: { type: 'redis', url: redis.url, keyPrefix: uniqueKeyPrefix('gql'), operationTimeoutMs: 300 },
      });
    });
    afterAll(async () => {
      await app.close();
      await redis.stop();
    });

    it('answers SERVICE_UNAVAILABLE while the store is down, never INTERNAL_SERVER_ERROR, and recovers', async () => {
      const { cookie } = await login(app, 'alice');
      await redis.stop();
      const answer = await graphql(app, '{ me { id } }', { cookie });
      expect(answer.response.status).toBeLessThan(500);
      expect(errorCodes(answer)).toEqual(['SERVICE_UNAVAILABLE']);
      await redis.restart();
      // The restarted server has no data: log in through the mutation until the client has reconnected.
      const loginMutation = 'mutation { login(username: "alice", password: "alice-password") { user { id } } }';
      let relogin = await graphql(app, loginMutation);
      for (const deadline = Date.now() + 10_000; relogin.errors && Date.now() < deadline; ) {
        expect(errorCodes(relogin)).toEqual(['SERVICE_UNAVAILABLE']);
        await sleep(100);
        relogin = await graphql(app, loginMutation);
      }
      const fresh = `sid=${sessionSetCookie(relogin.response).value}`;
      expect((await graphql(app, '{ me { id } }', { cookie: fresh })).data).toEqual({ me: { id: 'u-alice' } });
    });
  });
});
