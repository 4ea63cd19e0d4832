/**
 * A request's session is opened once, whoever asks for it: two guards on one route, a guard and
 * `@CurrentSession()`, or `@CurrentSession()` alone each cost one store read per request, and
 * the next request reads again (nothing is kept between requests). Express and Fastify.
 */
import { Controller, Get, UseGuards, type INestApplication } from '@nestjs/common';
import { AuthenticatedGuard, CurrentSession, MemorySessionStore, SessionGuard, type Session, type SessionRecord, type TouchPolicy } from '../src/index.js';
import type { SessionRef } from '../src/core/session-token.js';
import { http, login } from './support/http-helpers.js';
import { ADAPTERS, createTestApp } from './support/test-app.js';

/** The memory store, counting its reads. */
class CountingStore extends MemorySessionStore {
  reads = 0;

  override read(ref: SessionRef, touch: TouchPolicy): Promise<SessionRecord | null> {
    this.reads++;
    return super.read(ref, touch);
  }
}

@Controller('twice')
class TwoGuardsController {
  /** Two auth guards, each of which opens the request's session, and the session as a parameter. */
  @Get()
  @UseGuards(AuthenticatedGuard, SessionGuard)
  twice(@CurrentSession() session: Session): { via: string | null } {
    return { via: session.via };
  }
}

describe.each(ADAPTERS)('one store read per request (%s)', (adapter) => {
  let app: INestApplication;
  let store: CountingStore;
  let alice: string;

  beforeAll(async () => {
    store = new CountingStore();
    app = await createTestApp({ adapter, session: { store }, controllers: [TwoGuardsController] });
    alice = (await login(app, 'alice')).cookie;
  });

  afterAll(async () => {
    await app.close();
    await store.close();
  });

  /** The store reads that `count` requests from `send` cause, each answered with `status`. */
  async function readsOf(count: number, status: number, send: () => Promise<{ status: number }>): Promise<number> {
    const before = store.reads;
    for (let i = 0; i < count; i++) expect((await send()).status).toBe(status);
    return store.reads - before;
  }

  it('two auth guards and @CurrentSession() on one route: one read each request', async () => {
    expect(await readsOf(3, 200, () => http(app).get('/twice').set('Cookie', alice))).toBe(3);
  });

  it('a guard and @CurrentSession() on one route: one read each request', async () => {
    expect(await readsOf(3, 200, () => http(app).get('/probe/any').set('Cookie', alice))).toBe(3);
  });

  it('@CurrentSession() without a guard: one read each request, and none without a cookie', async () => {
    expect(await readsOf(2, 200, () => http(app).put('/probe/anonymous/theme').set('Cookie', alice).send({ value: 'dark' }))).toBe(2);
    expect(await readsOf(2, 200, () => http(app).put('/probe/anonymous/theme').send({ value: 'dark' }))).toBe(0);
  });
});
