/**
 * SECURITY row 26: login success and failure, logout, revocation and refresh-reuse events are
 * emitted, and no password, session token, refresh token or cookie value ever appears in them
 * or in the default log lines.
 */
import type { INestApplication, LoggerService } from '@nestjs/common';
import type { AuthEvent } from '../src/core/auth-events.js';
import { ADAPTERS, createTestApp, TEST_USERS } from './support/test-app.js';
import { http, login } from './support/http-helpers.js';
import { createJwtApp, tokenLogin } from './support/jwt-helpers.js';

const PASSWORDS = Object.values(TEST_USERS).map((account) => account.password);

/** Every secret-bearing string a test saw, to be searched for in events and logs. */
function secretsOf(values: string[]): string[] {
  return values.flatMap((value) => [value, ...value.split(/[.;=]/).filter((part) => part.length >= 20)]);
}

function expectNoSecrets(text: string, secrets: string[]): void {
  for (const secret of [...PASSWORDS, ...secrets]) expect(text).not.toContain(secret);
}

describe.each(ADAPTERS)('security events over %s', (adapter) => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('emits login, failure, throttling, cross-site, rotation, revocation and logout events without secrets (session mode)', async () => {
    const events: AuthEvent[] = [];
    const server = await createTestApp({
      adapter,
      session: { onAuthEvent: (event) => events.push(event), loginThrottle: { perAccount: { attempts: 2, window: '1m' } } },
    });
    apps.push(server);
    const first = await login(server, 'alice');
    const second = await login(server, 'alice');
    await http(server).post('/auth/login').send({ username: 'alice', password: 'wrong-password' }).expect(401);
    await http(server).post('/auth/login').send({ username: 'alice', password: 'wrong-password' }).expect(401);
    await http(server).post('/auth/login').send({ username: 'alice', password: 'alice-password' }).expect(429);
    await http(server).post('/auth/login').set('Sec-Fetch-Site', 'cross-site').send({ username: 'root', password: 'x' }).expect(403);
    const promoted = await http(server).post('/probe/promote').set('Cookie', second.cookie).expect(201);
    const sessions = await http(server).get('/auth/sessions').set('Cookie', first.cookie).expect(200);
    const other = sessions.body.find((entry: { current: boolean }) => !entry.current).id as string;
    await http(server).delete(`/auth/sessions/${other}`).set('Cookie', first.cookie).expect(204);
    await http(server).post('/auth/logout').set('Cookie', first.cookie).expect(204);

    expect(events.map((event) => event.type)).toEqual([
      'login.succeeded',
      'login.succeeded',
      'login.failed',
      'login.failed',
      'login.failed',
      'login.failed',
      'session.rotated',
      'session.revoked',
      'logout',
    ]);
    const failures = events.filter((event): event is Extract<AuthEvent, { type: 'login.failed' }> => event.type === 'login.failed');
    expect(failures.map((event) => event.reason)).toEqual(['bad-credentials', 'bad-credentials', 'throttled', 'cross-site']);
    expect(failures[0].account).toMatch(/^[A-Za-z0-9_-]{12}$/);
    const text = JSON.stringify(events);
    expect(text).not.toContain('"alice"'); // failed usernames appear only hashed
    expectNoSecrets(text, secretsOf([first.cookie, second.cookie, String(promoted.headers['set-cookie'])]));
  });

  it('emits refresh.reused when a logout presents a refresh token the family already consumed (jwt mode)', async () => {
    const events: AuthEvent[] = [];
    const server = await createJwtApp({ adapter, store: { type: 'memory' }, session: { onAuthEvent: (event) => events.push(event) } });
    apps.push(server);
    const tokens = await tokenLogin(server);
    await http(server).post('/auth/refresh').send({ refreshToken: tokens.refreshToken }).expect(200);
    await http(server).post('/auth/logout').send({ refreshToken: tokens.refreshToken }).expect(204);

    expect(events.map((event) => event.type)).toEqual(['login.succeeded', 'refresh.reused', 'logout']);
  });

  it('emits refresh-reuse and revoke-all events without tokens (jwt mode)', async () => {
    const events: AuthEvent[] = [];
    const server = await createJwtApp({ adapter, store: { type: 'memory' }, session: { onAuthEvent: (event) => events.push(event) } });
    apps.push(server);
    const tokens = await tokenLogin(server);
    const refreshed = await http(server).post('/auth/refresh').send({ refreshToken: tokens.refreshToken }).expect(200);
    await http(server).post('/auth/refresh').send({ refreshToken: tokens.refreshToken }).expect(401);
    const again = await tokenLogin(server);
    await http(server).post('/probe/disable/u-alice').expect(201);

    expect(events.map((event) => event.type)).toEqual(['login.succeeded', 'refresh.reused', 'login.succeeded', 'session.revoked']);
    expect(events[3]).toMatchObject({ userId: 'u-alice', sessionIds: 'all', count: 1 });
    expectNoSecrets(
      JSON.stringify(events),
      secretsOf([tokens.accessToken, tokens.refreshToken, refreshed.body.accessToken, refreshed.body.refreshToken, again.accessToken]),
    );
  });

  it('keeps a login working when the onAuthEvent listener throws', async () => {
    const server = await createTestApp({
      adapter,
      session: {
        onAuthEvent: () => {
          throw new Error('listener down');
        },
      },
    });
    apps.push(server);
    await login(server, 'alice');
    await http(server).post('/auth/login').send({ username: 'alice', password: 'wrong-password' }).expect(401);
  });

  it('logs events through Nest’s Logger by default, failures as warnings, without secrets', async () => {
    const lines: Array<{ level: string; message: string }> = [];
    const capture: LoggerService = {
      log: (message) => lines.push({ level: 'log', message: String(message) }),
      warn: (message) => lines.push({ level: 'warn', message: String(message) }),
      error: (message) => lines.push({ level: 'error', message: String(message) }),
    };
    const server = await createTestApp({ adapter });
    apps.push(server);
    server.useLogger(capture);
    const { cookie } = await login(server, 'alice');
    await http(server).post('/auth/login').send({ username: 'alice', password: 'wrong-password' }).expect(401);

    const events = lines.filter((line) => line.message.includes('"type":'));
    expect(events.map((line) => [line.level, JSON.parse(line.message).type])).toEqual([
      ['log', 'login.succeeded'],
      ['warn', 'login.failed'],
    ]);
    expectNoSecrets(lines.map((line) => line.message).join('\n'), secretsOf([cookie]));
  });
});
