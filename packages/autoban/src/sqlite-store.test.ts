import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkList, PorticoError } from '@portico/core';
import { captureLogger, connection, event, manualClock } from './test-support.ts';

// Listen before node:sqlite is first loaded: Node 24.21 must not print an ExperimentalWarning for it.
const warnings: Error[] = [];
process.on('warning', (w) => warnings.push(w));
const { openSqliteBanStore, sqliteBanStorePath, AutoBan, addBan, listBans } = await import('./index.ts');
const { DatabaseSync } = await import('node:sqlite');

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'portico-bans-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('node:sqlite loads without an ExperimentalWarning', async () => {
  const store = openSqliteBanStore(':memory:');
  await store.list();
  await store.close();
  await new Promise((r) => setImmediate(r)); // warnings are emitted on a later tick
  assert.deepEqual(warnings.filter((w) => w.name === 'ExperimentalWarning').map((w) => w.message), []);
});

test('bans persist across a reopen of <data-dir>/bans.sqlite (and the directory is created)', async (t) => {
  const dataDir = join(tempDir(t), 'data');
  const path = sqliteBanStorePath(dataDir);
  assert.equal(path, join(dataDir, 'bans.sqlite'));
  const clock = manualClock();
  const log = captureLogger();
  let store = openSqliteBanStore(path, { now: clock.now });
  const first = new AutoBan({
    rates: { 'auth-failure': { count: 2, perMs: 60_000 } },
    durationMs: 3_600_000,
    allowedIps: new NetworkList([]),
    trustedNetworks: [],
    store,
    logger: log.logger,
    now: clock.now,
  });
  const client = connection('2001:db8::77');
  first.report(event('auth-failure', client));
  first.report(event('auth-failure', client));
  await first.close();
  await store.close();
  assert.ok(existsSync(path));

  store = openSqliteBanStore(path, { now: clock.now });
  t.after(() => store.close());
  const ban = await store.get('2001:db8::77');
  assert.deepEqual(ban, { address: '2001:db8::77', reason: 'auth-failure: 2 in 1m (last: bad-password)', createdAt: clock.now(), expiresAt: clock.now() + 3_600_000 });
  const second = new AutoBan({ rates: {}, durationMs: 1000, allowedIps: new NetworkList([]), trustedNetworks: [], store, logger: log.logger, now: clock.now });
  assert.equal((await second.admit(client)).kind, 'refuse');
  assert.equal(await store.remove('2001:db8::77'), true);
  assert.equal(await store.remove('2001:db8::77'), false);
});

test('expired bans are not returned and are purged from the file', async (t) => {
  const path = join(tempDir(t), 'bans.sqlite');
  const clock = manualClock();
  const store = openSqliteBanStore(path, { now: clock.now });
  t.after(() => store.close());
  await addBan(store, '192.0.2.1', 1000, 'short', { now: clock.now });
  await addBan(store, '192.0.2.2', 5000, 'long', { now: clock.now });
  assert.deepEqual((await listBans(store)).map((b) => b.address), ['192.0.2.1', '192.0.2.2']);
  clock.advance(1000);
  assert.equal(await store.get('192.0.2.1'), undefined);
  assert.deepEqual((await store.list()).map((b) => b.address), ['192.0.2.2']);
  clock.advance(4000);
  assert.deepEqual(await store.list(), []);
  const raw = new DatabaseSync(path);
  const { n } = raw.prepare('SELECT count(*) AS n FROM bans').get() as { n: number };
  raw.close();
  assert.equal(n, 0, 'purged');
});

test('a second handle on the file (the `portico bans` command) is seen through the revision', async (t) => {
  const path = join(tempDir(t), 'bans.sqlite');
  const clock = manualClock();
  const server = openSqliteBanStore(path, { now: clock.now });
  const cli = openSqliteBanStore(path, { now: clock.now });
  t.after(async () => {
    await server.close();
    await cli.close();
  });
  const autoban = new AutoBan({ rates: {}, durationMs: 1000, allowedIps: new NetworkList([]), trustedNetworks: [], store: server, logger: captureLogger().logger, now: clock.now });
  const client = connection('198.51.100.3');
  const before = await server.revision!();
  assert.equal((await autoban.admit(client)).kind, 'allow');
  await addBan(cli, '198.51.100.3', 60_000, 'operator', { now: clock.now });
  assert.notEqual(await server.revision!(), before, 'another connection committed');
  clock.advance(1000);
  assert.equal((await autoban.admit(client)).kind, 'refuse');
  await cli.remove('198.51.100.3');
  clock.advance(1000);
  assert.equal((await autoban.admit(client)).kind, 'allow');
});

test('open and closed-store errors come from the catalogue', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'file'), 'x');
  assert.throws(
    () => openSqliteBanStore(join(dir, 'file', 'bans.sqlite')),
    (e: unknown) => e instanceof PorticoError && e.code === 'PORTICO_ERR_AUTOBAN_STORE_OPEN' && e.message.includes(join(dir, 'file', 'bans.sqlite')),
  );
  assert.throws(
    () => openSqliteBanStore(dir),
    (e: unknown) => e instanceof PorticoError && e.code === 'PORTICO_ERR_AUTOBAN_STORE_OPEN',
  );
  const store = openSqliteBanStore(join(dir, 'bans.sqlite'));
  await store.close();
  await store.close();
  await assert.rejects(store.list(), (e: unknown) => e instanceof PorticoError && e.code === 'PORTICO_ERR_AUTOBAN_STORE_CLOSED');
});
