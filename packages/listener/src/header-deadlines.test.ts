import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderDeadlines } from './header-deadlines.ts';

// The mocked clock is Date's (node:test cannot mock performance.now); the listener uses the monotonic one.

test('each deadline expires timeoutMs after it was set, in order, and a cancelled one never does', (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  const deadlines = new HeaderDeadlines(100, Date.now);
  const expired: string[] = [];
  deadlines.start(() => expired.push('a'));
  mock.timers.tick(30);
  const b = deadlines.start(() => expired.push('b'));
  mock.timers.tick(30);
  deadlines.start(() => expired.push('c'));
  deadlines.cancel(b);
  mock.timers.tick(39);
  assert.deepEqual(expired, []);
  mock.timers.tick(1);
  assert.deepEqual(expired, ['a'], 'a at 100 ms');
  mock.timers.tick(59);
  assert.deepEqual(expired, ['a'], 'b was cancelled, c not yet due');
  mock.timers.tick(1);
  assert.deepEqual(expired, ['a', 'c'], 'c at 160 ms');
});

test('cancelling the oldest, twice, or after expiry changes nothing else; a new deadline after a quiet spell still expires', (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  const deadlines = new HeaderDeadlines(50, Date.now);
  const expired: string[] = [];
  const a = deadlines.start(() => expired.push('a'));
  deadlines.start(() => expired.push('b'));
  deadlines.cancel(a);
  deadlines.cancel(a);
  mock.timers.tick(50);
  assert.deepEqual(expired, ['b']);
  mock.timers.tick(1000);
  const c = deadlines.start(() => expired.push('c'));
  mock.timers.tick(50);
  assert.deepEqual(expired, ['b', 'c']);
  deadlines.cancel(c);
  assert.deepEqual(expired, ['b', 'c']);
});
