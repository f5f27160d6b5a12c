import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderDeadlines } from './header-deadlines.ts';

/** A listener's deadlines on node:test's mocked timers, and the times (ms) at which each one expired. */
function mocked(t: { after(fn: () => void): void }, timeoutMs: number) {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const deadlines = new HeaderDeadlines(timeoutMs);
  const expired: [string, number][] = [];
  const start = (name: string) => deadlines.start(() => expired.push([name, Date.now()]));
  /** Moves the clock one ms at a time, so that each timer fires when it is due. */
  const advance = (ms: number) => {
    for (let i = 0; i < ms; i++) mock.timers.tick(1);
  };
  return { deadlines, expired, start, advance };
}

test('each deadline expires, in order, between the timeout and 9/8 of it after it was set; a cancelled one never does', (t) => {
  const { deadlines, expired, start, advance } = mocked(t, 100);
  start('a');
  advance(30);
  const b = start('b');
  advance(30);
  start('c');
  deadlines.cancel(b);
  advance(39);
  assert.equal(expired.length, 0, 'nothing before the timeout');
  advance(200);
  assert.equal(expired.length, 2, 'b was cancelled');
  const [[firstName, firstAt], [secondName, secondAt]] = expired as unknown as [[string, number], [string, number]];
  assert.deepEqual([firstName, secondName], ['a', 'c']);
  assert.ok(firstAt >= 100 && firstAt <= 100 + 13, `a set at 0 expired at ${firstAt}`);
  assert.ok(secondAt >= 160 && secondAt <= 160 + 13, `c set at 60 expired at ${secondAt}`);
});

test('cancelling the oldest, twice, or after expiry changes nothing else; a deadline set after a quiet spell still expires on time', (t) => {
  const { deadlines, expired, start, advance } = mocked(t, 50);
  const a = start('a');
  start('b');
  deadlines.cancel(a);
  deadlines.cancel(a);
  advance(49);
  assert.equal(expired.length, 0);
  advance(20);
  assert.deepEqual(expired.map(([name]) => name), ['b']);
  // The timer stops when nothing waits; the next deadline starts it again.
  advance(1000);
  const c = start('c');
  const setAt = Date.now();
  advance(49);
  assert.deepEqual(expired.map(([name]) => name), ['b']);
  advance(20);
  assert.deepEqual(expired.map(([name]) => name), ['b', 'c']);
  assert.ok(expired[1]![1] - setAt <= 8 * 7, `c expired ${expired[1]![1] - setAt} ms after it was set (a stopped timer: 8 ticks of 7 ms)`);
  deadlines.cancel(c);
  assert.equal(expired.length, 2);
});

test('a timeout of a few ms, not a multiple of 8, is never cut short', (t) => {
  for (const timeoutMs of [1, 3, 13, 70]) {
    const { expired, start, advance } = mocked(t, timeoutMs);
    advance(5);
    start('x');
    advance(timeoutMs - 1);
    assert.equal(expired.length, 0, `timeout ${timeoutMs}`);
    advance(timeoutMs + 10);
    assert.equal(expired.length, 1, `timeout ${timeoutMs}`);
    mock.timers.reset();
  }
});
