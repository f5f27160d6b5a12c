import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

// Node's own async context frame class, seen through --expose-internals in a fresh process (this
// one has long decided): its prototype tells whether the decision was made.
const script = `
const frames = require('internal/async_context_frame');
const decided = () => Object.getPrototypeOf(frames).name !== 'InactiveAsyncContextFrame';
const before = decided();
import(${JSON.stringify(new URL('./async-context.ts', import.meta.url).href)}).then(({ settleAsyncContextFrames }) => {
  const afterImport = decided();
  settleAsyncContextFrames();
  console.log(JSON.stringify({ before, afterImport, after: decided() }));
});
`;

test('settleAsyncContextFrames makes Node decide on its async context frames at once, not at the first timer', () => {
  const run = spawnSync(process.execPath, ['--expose-internals', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { before: false, afterImport: false, after: true });
});
