import { test, mock } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs, { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchedDestination } from './log-destination.ts';

const logFile = () => join(mkdtempSync(join(tmpdir(), 'portico-log-')), 'out.log');
const written = (path: string) => readFileSync(path, 'utf8');

/** A batched destination writing to a fresh file, with setTimeout mocked for this test. */
function batchedToFile(t: TestContext, maxChars: number) {
  t.after(() => mock.timers.reset());
  mock.timers.enable({ apis: ['setTimeout'] });
  const path = logFile();
  return { path, destination: batchedDestination(path, { maxDelayMs: 25, maxChars }) };
}

test('lines wait for maxDelayMs, then go out together, in order', (t) => {
  const { path, destination } = batchedToFile(t, 1000);
  destination.write('{"msg":"one"}\n');
  mock.timers.tick(10);
  destination.write('{"msg":"two"}\n');
  assert.equal(written(path), '', 'nothing is written before the first line is 25 ms old');
  mock.timers.tick(15);
  assert.equal(written(path), '{"msg":"one"}\n{"msg":"two"}\n');
  destination.write('{"msg":"three"}\n');
  mock.timers.tick(24);
  assert.equal(written(path), '{"msg":"one"}\n{"msg":"two"}\n');
  mock.timers.tick(1);
  assert.equal(written(path), '{"msg":"one"}\n{"msg":"two"}\n{"msg":"three"}\n');
});

test('lines reaching maxChars are written at once, without waiting', (t) => {
  const { path, destination } = batchedToFile(t, 20);
  destination.write('0123456789\n');
  assert.equal(written(path), '');
  destination.write('abcdefghij\n');
  assert.equal(written(path), '0123456789\nabcdefghij\n');
});

test('a batch larger than writeChars goes out in several writes, every line whole and in order', (t) => {
  t.after(() => mock.timers.reset());
  mock.timers.enable({ apis: ['setTimeout'] });
  const path = logFile();
  const destination = batchedDestination(path, { maxDelayMs: 25, maxChars: 1000, writeChars: 30 });
  const lines = Array.from({ length: 12 }, (_, i) => `{"msg":"line ${i}"}\n`);
  const writes: number[] = [];
  const { writeSync } = fs;
  const spy = mock.method(fs, 'writeSync', function (this: unknown, ...args: Parameters<typeof writeSync>) {
    writes.push((args[1] as unknown as Buffer).length);
    return writeSync.apply(this, args);
  });
  t.after(() => spy.mock.restore());
  for (const line of lines) destination.write(line);
  mock.timers.tick(25);
  assert.equal(written(path), lines.join(''));
  assert.deepEqual(writes, [34, 34, 34, 34, 34, 36], 'two lines to a write (17 bytes each, the last two 18)');
});

test('text beyond ASCII is written as UTF-8, each character whole', (t) => {
  const { path, destination } = batchedToFile(t, 1000);
  destination.write('{"msg":"réponse"}\n');
  destination.write('{"client":"€ 😀 \\ud800"}\n');
  // Three bytes for every UTF-16 unit, the most UTF-8 needs; a lone surrogate becomes U+FFFD.
  const widest = `${'€'.repeat(300)}\ud800\n`;
  destination.write(widest);
  destination.flushSync();
  const expected = `{"msg":"réponse"}\n{"client":"€ 😀 \\ud800"}\n${'€'.repeat(300)}\ufffd\n`;
  assert.deepEqual(readFileSync(path), Buffer.from(expected, 'utf8'));
});

// A process that writes a line and then ends as given: the line must be in the file.
const script = (path: string, ending: string) => `
  import { batchedDestination } from ${JSON.stringify(new URL('./log-destination.ts', import.meta.url).href)};
  const destination = batchedDestination(${JSON.stringify(path)});
  destination.write('{"msg":"last words"}\\n');
  ${ending}
`;

for (const [how, ending, status] of [
  ['ends by itself (the waiting timer does not keep it alive)', '', 0],
  ['calls process.exit', 'process.exit(3);', 3],
  ['throws an uncaught exception', "throw new Error('boom');", 1],
] as const) {
  test(`a process that ${how} still writes its last lines`, () => {
    const path = logFile();
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script(path, ending)], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, status, result.stderr);
    assert.equal(written(path), '{"msg":"last words"}\n');
  });
}
