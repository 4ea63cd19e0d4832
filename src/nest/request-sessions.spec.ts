import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { SessionStoreUnavailableError } from '../core/errors.js';
import { SessionManager } from '../core/session-manager.js';
import { resolveSessionOptions } from '../core/session-options.js';
import type { SessionRecord, TouchPolicy } from '../core/session-store.js';
import type { SessionRef } from '../core/session-token.js';
import { MemorySessionStore } from '../stores/memory-session-store.js';
import { RequestSessions } from './request-sessions.js';

/** The memory store, counting its reads; `failNext` makes the next read fail as an unreachable store would. */
class FlakyStore extends MemorySessionStore {
  reads = 0;
  failNext = false;

  override read(ref: SessionRef, touch: TouchPolicy): Promise<SessionRecord | null> {
    this.reads++;
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new SessionStoreUnavailableError('read', new Error('connection refused')));
    }
    return super.read(ref, touch);
  }
}

/** A response as Express hands it over: headers only. */
function expressResponse() {
  const headers = new Map<string, string | string[]>();
  return {
    setHeader: (name: string, value: string) => headers.set(name.toLowerCase(), value),
    getHeader: (name: string) => headers.get(name.toLowerCase()),
    append: (name: string, value: string) => headers.set(name.toLowerCase(), [...[headers.get(name.toLowerCase()) ?? []].flat(), value]),
    cookies: () => [headers.get('set-cookie') ?? []].flat(),
  };
}

describe('RequestSessions', () => {
  let store: FlakyStore;
  let manager: SessionManager;
  let sessions: RequestSessions;
  let cookie: string;

  beforeEach(async () => {
    store = new FlakyStore();
    manager = new SessionManager(
      resolveSessionOptions({ secret: 'request-sessions-spec-secret-of-32-chars', validateUser: async () => null, cookie: { secure: false } }),
      store,
    );
    sessions = new RequestSessions(manager);
    // An anonymous session with data, as a first request would leave it.
    const response = expressResponse();
    const first = await sessions.load(contextOf({ headers: {}, method: 'GET' }, response));
    first.set('theme', 'dark');
    await manager.commit(first);
    cookie = response.cookies()[0].split(';')[0];
    store.reads = 0;
  });

  afterEach(() => store.close());

  function contextOf(request: object, response: object = expressResponse()): ExecutionContextHost {
    const context = new ExecutionContextHost([request, response, () => undefined]);
    context.setType('http');
    return context;
  }

  it('opens a request’s session once however many ask, and adds one property to the request', async () => {
    const request = { headers: { cookie }, method: 'GET' };
    const keysBefore = Reflect.ownKeys(request).length;
    expect(RequestSessions.current(request)).toBeUndefined();
    const [a, b] = await Promise.all([sessions.load(contextOf(request)), sessions.load(contextOf(request))]);
    const c = await sessions.load(contextOf(request));
    expect(a).toBe(b);
    expect(a).toBe(c);
    expect(a.get('theme')).toBe('dark');
    expect(RequestSessions.current(request)).toBe(a);
    expect(store.reads).toBe(1);
    // On Express each property added to a request costs microseconds (bench/REQUEST-OBJECT.md).
    expect(Reflect.ownKeys(request).length).toBe(keysBefore + 1);
  });

  it('does not remember a failed open: the next asker of the same request reads again', async () => {
    const request = { headers: { cookie }, method: 'GET' };
    store.failNext = true;
    await expect(sessions.load(contextOf(request))).rejects.toBeInstanceOf(SessionStoreUnavailableError);
    expect(RequestSessions.current(request)).toBeUndefined();
    const session = await sessions.load(contextOf(request));
    expect(session.get('theme')).toBe('dark');
    expect(RequestSessions.current(request)).toBe(session);
    expect(store.reads).toBe(2);
  });

  it('opens each request on its own', async () => {
    const one = await sessions.load(contextOf({ headers: { cookie }, method: 'GET' }));
    const other = await sessions.load(contextOf({ headers: { cookie }, method: 'GET' }));
    expect(one).not.toBe(other);
    expect(store.reads).toBe(2);
  });
});
