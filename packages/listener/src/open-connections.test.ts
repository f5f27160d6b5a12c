import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { OpenConnections } from './open-connections.ts';

test('sockets are counted in and out in any order, and removing one twice counts once', () => {
  const open = new OpenConnections();
  const [a, b, c] = [open.add(new Socket()), open.add(new Socket()), open.add(new Socket())];
  assert.equal(open.size, 3);
  open.remove(b);
  open.remove(b);
  assert.equal(open.size, 2);
  open.remove(c);
  open.remove(a);
  assert.equal(open.size, 0);
});

test('destroyAll destroys every socket still open, and only those', () => {
  const open = new OpenConnections();
  const sockets = [new Socket(), new Socket(), new Socket()];
  const entries = sockets.map((s) => open.add(s));
  open.remove(entries[1]!);
  open.destroyAll();
  assert.deepEqual(sockets.map((s) => s.destroyed), [true, false, true]);
});

test('whenEmpty resolves once the last socket is removed, or at once when none is open', async () => {
  const open = new OpenConnections();
  await open.whenEmpty();
  const first = open.add(new Socket());
  const second = open.add(new Socket());
  let resolved = false;
  const empty = open.whenEmpty().then(() => (resolved = true));
  open.remove(first);
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, false, 'one socket is still open');
  open.remove(second);
  await empty;
  assert.equal(resolved, true);
});
