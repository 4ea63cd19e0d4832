import { InProcessSessionEndChannel, parseSessionEndNotice, sessionEndNoticeOf, type SessionEndNotice } from './session-end-channel.js';
import { SessionSockets, type WatchedSocket } from './session-sockets.js';

describe('sessionEndNoticeOf', () => {
  it('names the sessions that logout, revocation, rotation and eviction end', () => {
    expect(sessionEndNoticeOf({ type: 'logout', userId: 'u1', sessionId: 'h1', ip: null })).toEqual({ userId: 'u1', handles: ['h1'] });
    expect(sessionEndNoticeOf({ type: 'session.rotated', userId: 'u1', sessionId: 'h1' })).toEqual({ userId: 'u1', handles: ['h1'] });
    expect(sessionEndNoticeOf({ type: 'session.revoked', userId: 'u1', sessionIds: ['h1', 'h2'], count: 2 })).toEqual({ userId: 'u1', handles: ['h1', 'h2'] });
    expect(sessionEndNoticeOf({ type: 'session.revoked', userId: 'u1', sessionIds: 'all', count: 3 })).toEqual({ userId: 'u1', handles: 'all' });
    expect(sessionEndNoticeOf({ type: 'session.revoked', userId: 'u1', sessionIds: 'all-but-current', count: 1 })).toEqual({ userId: 'u1', handles: 'all' });
    expect(sessionEndNoticeOf({ type: 'session.evicted', userId: 'u1', sessionIds: ['h3'], count: 1 })).toEqual({ userId: 'u1', handles: ['h3'] });
  });

  it('names nothing for events that end no known session', () => {
    expect(sessionEndNoticeOf({ type: 'logout', userId: null, sessionId: null, ip: null })).toBeNull();
    expect(sessionEndNoticeOf({ type: 'refresh.reused', ip: null })).toBeNull();
    expect(sessionEndNoticeOf({ type: 'login.failed', reason: 'bad-credentials', account: 'x', ip: null })).toBeNull();
  });
});

describe('parseSessionEndNotice', () => {
  it('reads what publish writes and refuses anything else', () => {
    const notice: SessionEndNotice = { userId: 'u1', handles: ['h1'] };
    expect(parseSessionEndNotice(JSON.stringify(notice))).toEqual(notice);
    expect(parseSessionEndNotice('{"userId":"u1","handles":"all"}')).toEqual({ userId: 'u1', handles: 'all' });
    for (const bad of ['', 'null', '{', '{"userId":1,"handles":"all"}', '{"userId":"u1","handles":[1]}', '{"userId":"u1"}']) {
      expect(parseSessionEndNotice(bad)).toBeNull();
    }
  });
});

describe('SessionSockets', () => {
  function socket(userId: string, handle: string, alive: () => number | null) {
    const closes: string[] = [];
    const watched: WatchedSocket = { userId, handle, recheck: async () => alive(), close: (reason) => closes.push(reason) };
    return { watched, closes };
  }
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('closes the named session’s socket once its re-check fails, and leaves other sessions and users alone', async () => {
    const sockets = new SessionSockets();
    const ended = socket('u1', 'h1', () => null);
    const sibling = socket('u1', 'h2', () => null);
    const stranger = socket('u2', 'h1', () => null);
    const far = Date.now() + 60_000;
    for (const entry of [ended, sibling, stranger]) sockets.watch(entry.watched, far);
    const channel = new InProcessSessionEndChannel();
    await channel.subscribe((notice) => sockets.onNotice(notice));
    channel.publish({ userId: 'u1', handles: ['h1'] });
    await settle();
    expect(ended.closes).toEqual(['session ended']);
    expect(sibling.closes).toEqual([]);
    expect(stranger.closes).toEqual([]);
    expect(sockets.size).toBe(2);
    sockets.clear();
  });

  it('keeps a socket whose session is still alive on a notice for all of the user’s sessions', async () => {
    const sockets = new SessionSockets();
    const alive = socket('u1', 'h1', () => Date.now() + 60_000);
    sockets.watch(alive.watched, Date.now() + 60_000);
    sockets.onNotice({ userId: 'u1', handles: 'all' });
    await settle();
    expect(alive.closes).toEqual([]);
    expect(sockets.size).toBe(1);
    sockets.clear();
    expect(sockets.size).toBe(0);
  });
});
