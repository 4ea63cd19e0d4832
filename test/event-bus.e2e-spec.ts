/**
 * Auth events on the Nest event bus: with `@nestjs/event-emitter` installed and
 * `EventEmitterModule.forRoot()` imported, every event is also emitted as `session-auth.<type>`;
 * `onAuthEvent` keeps receiving them; an app without the module works as before.
 */
import { Injectable, type INestApplication } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import type { AuthEvent } from '../src/core/auth-events.js';
import type { AuthEventPayload } from '../src/index.js';
import { http, login } from './support/http-helpers.js';
import { ADAPTERS, createTestApp } from './support/test-app.js';

@Injectable()
class LoginAudit {
  readonly logins: Array<AuthEventPayload<'session-auth.login.succeeded'>> = [];

  @OnEvent('session-auth.login.succeeded')
  onLogin(event: AuthEventPayload<'session-auth.login.succeeded'>): void {
    this.logins.push(event);
  }
}

@Injectable()
class ThrowingListener {
  @OnEvent('session-auth.login.succeeded')
  onLogin(): void {
    throw new Error('listener down');
  }
}

describe.each(ADAPTERS)('auth events on the Nest event bus over %s', (adapter) => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('emits every event as session-auth.<type> with the event as payload, and onAuthEvent still gets it', async () => {
    const direct: AuthEvent[] = [];
    const server = await createTestApp({
      adapter,
      imports: [EventEmitterModule.forRoot()],
      providers: [LoginAudit],
      session: { onAuthEvent: (event) => direct.push(event) },
    });
    apps.push(server);
    const onBus: Array<[string, unknown]> = [];
    server.get(EventEmitter2).onAny((name, payload) => onBus.push([String(name), payload]));

    const { cookie } = await login(server, 'alice');
    await http(server).post('/auth/login').send({ username: 'alice', password: 'wrong-password' }).expect(401);
    await http(server).post('/auth/logout').set('Cookie', cookie).expect(204);

    expect(onBus.map(([name]) => name)).toEqual(['session-auth.login.succeeded', 'session-auth.login.failed', 'session-auth.logout']);
    expect(onBus.map(([, payload]) => payload)).toEqual(direct);
    expect(server.get(LoginAudit).logins).toEqual([direct[0]]);
  });

  it('works without EventEmitterModule: events reach onAuthEvent only', async () => {
    const direct: AuthEvent[] = [];
    const server = await createTestApp({ adapter, session: { onAuthEvent: (event) => direct.push(event) } });
    apps.push(server);
    await login(server, 'alice');
    expect(direct.map((event) => event.type)).toEqual(['login.succeeded']);
    expect(() => server.get(EventEmitter2, { strict: false })).toThrow();
  });

  it('keeps a login working when an event-bus listener throws', async () => {
    const server = await createTestApp({ adapter, imports: [EventEmitterModule.forRoot()], providers: [ThrowingListener] });
    apps.push(server);
    await login(server, 'alice');
  });
});
