/**
 * Events and their log lines carry the request's trace id: from a valid W3C `traceparent`
 * header (parsed strictly: a malformed one names no trace), on Express and Fastify, for events
 * raised in guards (a failed login) and in the core (a login, a logout) alike. No password,
 * cookie value or token appears in any log line of the run.
 */
import type { INestApplication, LoggerService } from '@nestjs/common';
import type { Response } from 'supertest';
import type { AuthEvent } from '../src/index.js';
import { http, setCookies } from './support/http-helpers.js';
import { ADAPTERS, createTestApp, sessionCookieFrom, TEST_USERS } from './support/test-app.js';

const TRACE_A = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACE_B = '0af7651916cd43dd8448eb211c80319c';
const traceparent = (traceId: string) => `00-${traceId}-00f067aa0ba902b7-01`;

describe.each(ADAPTERS)('trace ids in auth events and log lines (%s)', (adapter) => {
  let app: INestApplication;
  const lines: string[] = [];
  const keep = (message: unknown, ...rest: unknown[]) => lines.push([message, ...rest].map(String).join(' '));
  const logger: LoggerService = { log: keep, warn: keep, error: keep, debug: keep, verbose: keep };

  beforeAll(async () => {
    app = await createTestApp({ adapter, logger });
  });
  afterAll(async () => {
    await app?.close();
  });

  const eventLines = (type: AuthEvent['type']) => lines.filter((line) => line.includes(`"type":"${type}"`));

  it('puts the traceparent trace id on events raised in a guard and in the core, and in their log lines', async () => {
    lines.length = 0;
    await http(app).post('/auth/login').set('traceparent', traceparent(TRACE_A)).send({ username: 'alice', password: 'wrong-password' }).expect(401);
    const login = await http(app).post('/auth/login').set('traceparent', traceparent(TRACE_B)).send({ username: 'alice', password: 'alice-password' }).expect(200);
    await http(app).post('/auth/logout').set('Cookie', sessionCookieFrom(login)).set('traceparent', traceparent(TRACE_A)).expect(204);

    expect(eventLines('login.failed').map((line) => JSON.parse(line.slice(line.indexOf('{'), line.lastIndexOf('}') + 1)).traceId)).toEqual([TRACE_A]);
    expect(eventLines('login.succeeded').join('\n')).toContain(`"traceId":"${TRACE_B}"`);
    expect(eventLines('logout').join('\n')).toContain(`"traceId":"${TRACE_A}"`);
  });

  it.each([
    ['an uppercase trace id', `00-${TRACE_A.toUpperCase()}-00f067aa0ba902b7-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['an all-zero parent id', `00-${TRACE_A}-0000000000000000-01`],
    ['version ff', `ff-${TRACE_A}-00f067aa0ba902b7-01`],
    ['version 00 with an extra field', `00-${TRACE_A}-00f067aa0ba902b7-01-extra`],
    ['a short trace id', `00-${TRACE_A.slice(1)}-00f067aa0ba902b7-01`],
    ['two headers joined', `${traceparent(TRACE_A)}, ${traceparent(TRACE_B)}`],
  ])('names no trace for a traceparent with %s', async (_case, header) => {
    lines.length = 0;
    await http(app).post('/auth/login').set('traceparent', header).send({ username: 'alice', password: 'wrong-password' }).expect(401);
    const failed = eventLines('login.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).not.toContain('traceId');
  });

  it('accepts a later version with more fields, and events without any traceparent carry no trace id', async () => {
    lines.length = 0;
    await http(app).post('/auth/login').set('traceparent', `01-${TRACE_B}-00f067aa0ba902b7-01-future`).send({ username: 'root', password: 'nope' }).expect(401);
    await http(app).post('/auth/login').send({ username: 'root', password: 'nope' }).expect(401);
    const failed = eventLines('login.failed');
    expect(failed).toHaveLength(2);
    expect(failed[0]).toContain(`"traceId":"${TRACE_B}"`);
    expect(failed[1]).not.toContain('traceId');
  });

  it('logs no password, cookie value or token in a traced run', async () => {
    lines.length = 0;
    const secrets: string[] = Object.values(TEST_USERS).map((account) => account.password);
    const seen = (response: Response) => {
      for (const raw of setCookies(response)) {
        const value = raw.split(';')[0].split('=').slice(1).join('=');
        if (value) secrets.push(value, ...value.split('.').filter((part) => part.length >= 20));
      }
      return response;
    };
    const login = seen(await http(app).post('/auth/login').set('traceparent', traceparent(TRACE_A)).send({ username: 'root', password: 'root-password' }));
    await http(app).get('/auth/me').set('Cookie', sessionCookieFrom(login)).set('traceparent', traceparent(TRACE_B)).expect(200);
    await http(app).post('/auth/logout').set('Cookie', sessionCookieFrom(login)).set('traceparent', traceparent(TRACE_B)).expect(204);
    expect(lines.some((line) => line.includes(TRACE_A))).toBe(true);
    expect(secrets.length).toBeGreaterThan(2);
    for (const secret of secrets) expect(lines.filter((line) => line.includes(secret))).toEqual([]);
  });
});
