/**
 * With @opentelemetry/api installed and a tracer provider registered (here the SDK's in-memory
 * exporter), every store operation of the module is a client span: a child of the request's
 * `traceparent`, or of the active span when there is one (events then carry that span's trace
 * id); a failed operation (a frozen Redis) has an error status naming only its kind. No span
 * name or attribute holds a password, cookie value or token.
 */
import type { INestApplication } from '@nestjs/common';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { AuthService, type AuthEvent } from '../src/index.js';
import { http, setCookies, uniqueKeyPrefix } from './support/http-helpers.js';
import { redisPid } from './support/redis-process.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { createTestApp, sessionCookieFrom, TEST_USERS } from './support/test-app.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE}-${PARENT}-01`;

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const storeSpans = (operation?: string) =>
  exporter.getFinishedSpans().filter((span) => (operation ? span.name === `session-store ${operation}` : span.name.startsWith('session-store ')));

describe('store operations as OpenTelemetry spans (Redis store)', () => {
  let server: RedisServerHandle;
  let app: INestApplication;
  const events: AuthEvent[] = [];

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    server = await startRedisServer();
    app = await createTestApp({
      adapter: 'express',
      session: {
        store: { type: 'redis', url: server.url, keyPrefix: uniqueKeyPrefix('spans'), operationTimeoutMs: 300 },
        onAuthEvent: (event) => events.push(event),
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await server?.stop();
    trace.disable();
    context.disable();
  });
  beforeEach(() => {
    exporter.reset();
    events.length = 0;
  });

  it("makes each store operation of a request a client span under the request's traceparent", async () => {
    const login = await http(app).post('/auth/login').set('traceparent', TRACEPARENT).send({ username: 'alice', password: 'alice-password' }).expect(200);
    await http(app).get('/auth/me').set('Cookie', sessionCookieFrom(login)).set('traceparent', TRACEPARENT).expect(200);
    const [create] = storeSpans('create');
    const [read] = storeSpans('read');
    for (const span of [create, read]) {
      expect({
        traceId: span.spanContext().traceId,
        parent: span.parentSpanContext?.spanId,
        kind: span.kind,
        operation: span.attributes['session_auth.store.operation'],
        status: span.status.code,
      }).toEqual({ traceId: TRACE, parent: PARENT, kind: SpanKind.CLIENT, operation: span.name.split(' ')[1], status: SpanStatusCode.UNSET });
    }
    expect(events.find((event) => event.type === 'login.succeeded')?.traceId).toBe(TRACE);
  });

  it('makes a root span for a request without traceparent, and its events carry no trace id', async () => {
    await http(app).post('/auth/login').send({ username: 'alice', password: 'alice-password' }).expect(200);
    const [create] = storeSpans('create');
    expect(create.parentSpanContext).toBeUndefined();
    expect(create.spanContext().traceId).not.toBe(TRACE);
    // The store's span is its own, never made active: the request itself has no trace.
    expect(events.find((event) => event.type === 'login.succeeded')).not.toHaveProperty('traceId');
  });

  it('puts operations under the active span, whose trace id the events carry', async () => {
    const tracer = trace.getTracer('test');
    const job = await tracer.startActiveSpan('admin job', async (span) => {
      await app.get(AuthService).revokeAllSessions('u-alice');
      span.end();
      return span;
    });
    const [destroy] = storeSpans('destroyByUser');
    expect(destroy.spanContext().traceId).toBe(job.spanContext().traceId);
    expect(destroy.parentSpanContext?.spanId).toBe(job.spanContext().spanId);
    expect(events.find((event) => event.type === 'session.revoked')?.traceId).toBe(job.spanContext().traceId);
  });

  it('marks an operation that failed on a frozen Redis with the error kind only, and holds no secret', async () => {
    const login = await http(app).post('/auth/login').send({ username: 'root', password: 'root-password' }).expect(200);
    const pid = await redisPid(server.url);
    process.kill(pid, 'SIGSTOP');
    try {
      await http(app).get('/auth/me').set('Cookie', sessionCookieFrom(login)).expect(503);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const failed = storeSpans('read').at(-1)!;
    expect({ status: failed.status, errorType: failed.attributes['error.type'], events: failed.events }).toEqual({
      status: { code: SpanStatusCode.ERROR, message: 'timeout' },
      errorType: 'timeout',
      events: [],
    });
    const cookieValue = setCookies(login)[0].split(';')[0].split('=').slice(1).join('=');
    const secrets = [cookieValue, ...cookieValue.split('.'), ...Object.values(TEST_USERS).map((account) => account.password)];
    const text = JSON.stringify(exporter.getFinishedSpans().map((span: ReadableSpan) => [span.name, span.attributes, span.status, span.events]));
    for (const secret of secrets.filter((part) => part.length >= 8)) expect(text).not.toContain(secret);
  });
});
