import { RecentSessions } from './recent-sessions.js';

const ref = (n: number) => ({ tag: 't', digest: `d${n}` });

describe('RecentSessions', () => {
  let now = 0;
  const clock = () => now;

  it('counts sessions seen within the window, and drops them once it passes without a use', () => {
    now = 0;
    const recent = new RecentSessions(1_000, 100, clock);
    recent.touch(ref(1), 'h1', 'u1');
    now = 500;
    recent.touch(ref(2), 'h2', 'u2');
    expect(recent.count()).toBe(2);
    now = 1_200;
    recent.touch(ref(2), 'h2', 'u2');
    expect(recent.count()).toBe(1);
    now = 2_300;
    expect(recent.count()).toBe(0);
  });

  it('forgets sessions by store key, by handle and by user (keeping one), and follows a rename', () => {
    now = 0;
    const recent = new RecentSessions(1_000, 100, clock);
    for (const n of [1, 2, 3, 4]) recent.touch(ref(n), `h${n}`, n <= 3 ? 'alice' : 'bob');
    recent.forget(ref(1));
    recent.forgetHandle('h4');
    expect(recent.count()).toBe(2);
    recent.moved(ref(2), ref(20));
    recent.forget(ref(2));
    expect(recent.count()).toBe(2);
    recent.forgetUser('alice', 'h3');
    expect(recent.count()).toBe(1);
    recent.forgetHandle('h3');
    expect(recent.count()).toBe(0);
  });

  it('holds at most its capacity, forgetting the least recently seen', () => {
    now = 0;
    const recent = new RecentSessions(1_000, 2, clock);
    recent.touch(ref(1), 'h1', 'u');
    recent.touch(ref(2), 'h2', 'u');
    recent.touch(ref(1), 'h1', 'u');
    recent.touch(ref(3), 'h3', 'u');
    expect(recent.count()).toBe(2);
    recent.forgetHandle('h2'); // already forgotten at the cap
    recent.forgetHandle('h1');
    expect(recent.count()).toBe(1);
  });
});
