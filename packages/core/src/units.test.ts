import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseRate, formatDuration } from './units.ts';

test('durations in every unit', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1d'), 86_400_000);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration('1w'), 604_800_000);
});

test('malformed durations are refused', () => {
  for (const bad of ['', '5', 's', '5 s', '-5s', '1.5s', '5sec', '5S', '1y', '99999999999s']) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
});

test('rates', () => {
  assert.deepEqual(parseRate('10/1h'), { count: 10, perMs: 3_600_000 });
  assert.deepEqual(parseRate('120/1m'), { count: 120, perMs: 60_000 });
  assert.deepEqual(parseRate('30/1d'), { count: 30, perMs: 86_400_000 });
  assert.deepEqual(parseRate('5/h'), { count: 5, perMs: 3_600_000 });
  for (const bad of ['10', '10/', '/1h', '0/1h', '10/0s', '10 / 1h', '1h/10', 'x/1h']) {
    assert.equal(parseRate(bad), undefined, bad);
  }
});

test('formatDuration picks the largest exact unit', () => {
  assert.equal(formatDuration(86_400_000), '1d');
  assert.equal(formatDuration(5000), '5s');
  assert.equal(formatDuration(1500), '1500ms');
});
