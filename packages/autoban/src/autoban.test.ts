import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkList, PorticoError } from '@portico/core';
import type { Verdict } from '@portico/core';
import { AutoBan, addBan, createMemoryBanStore } from './index.ts';
import type { AutoBanOptions, Ban, BanStore } from './index.ts';
import { captureLogger, connection, event, manualClock, viaProxy, WARN } from './test-support.ts';

const HOUR = 3_600_000;

function setup(overrides: Partial<AutoBanOptions> = {}) {
  const clock = manualClock();
  const log = captureLogger();
  const store = createMemoryBanStore({ now: clock.now });
  const autoban = new AutoBan({
    rates: { 'auth-failure': { count: 3, perMs: HOUR }, scan: { count: 2, perMs: 60_000 }, loiter: { count: 5, perMs: 86_400_000 } },
    durationMs: 86_400_000,
    allowedIps: NetworkList.parse(['192.0.2.10', '2001:db8:aaaa::/48']),
    trustedNetworks: [NetworkList.parse(['127.0.0.0/8', '::1']), NetworkList.parse(['10.0.0.0/8'])],
    store,
    logger: log.logger,
    now: clock.now,
    ...overrides,
  });
  return { clock, log, store, autoban };
}

function isRefused(v: Verdict): v is Extract<Verdict, { kind: 'refuse' }> {
  return v.kind === 'refuse';
}

test('counting to the rate bans the real client IP (not the proxy), with reason and expiry', async () => {
  const { autoban, store, log, clock } = setup();
  const bad = viaProxy('198.51.100.7');
  const good = viaProxy('198.51.100.8');
  autoban.report(event('auth-failure', bad));
  autoban.report(event('auth-failure', bad));
  autoban.report(event('auth-failure', good));
  await autoban.settled();
  assert.equal((await autoban.admit(bad)).kind, 'allow', 'two failures of three: not yet');
  autoban.report(event('auth-failure', bad, 'unknown-user'));
  await autoban.settled();
  const verdict = await autoban.admit(bad);
  assert.ok(isRefused(verdict));
  assert.equal(verdict.reason, 'banned');
  assert.equal(verdict.temporary, false);
  assert.match(verdict.message, /198\.51\.100\.7 is banned until 2030-01-02T00:00:00\.000Z \(auth-failure: 3 in 1h \(last: unknown-user\)\)/);
  assert.equal(verdict.retryAfter, 86_400);
  assert.equal((await autoban.admit(good)).kind, 'allow', 'the other client behind the same proxy is not banned');
  assert.equal((await autoban.admit(connection('10.0.0.1'))).kind, 'allow', 'the proxy itself is not banned');
  const stored = await store.get('198.51.100.7');
  assert.deepEqual(stored, { address: '198.51.100.7', reason: 'auth-failure: 3 in 1h (last: unknown-user)', createdAt: clock.now(), expiresAt: clock.now() + 86_400_000 });
  const banned = log.lines.find((l) => l.msg === 'banned client');
  assert.ok(banned);
  assert.equal(banned.client, '198.51.100.7');
  assert.equal(banned.expiresAt, '2030-01-02T00:00:00.000Z');
});

test('each kind counts against its own rate; events outside the window do not add up', async () => {
  const { autoban, clock } = setup();
  const client = connection('203.0.113.9');
  autoban.report(event('scan', client, 'unknown-command'));
  clock.advance(60_000); // the first scan left the 1-minute window
  autoban.report(event('scan', client, 'unknown-command'));
  autoban.report(event('auth-failure', client));
  autoban.report(event('loiter', client, 'idle-timeout'));
  await autoban.settled();
  assert.equal((await autoban.admit(client)).kind, 'allow');
  clock.advance(59_999);
  autoban.report(event('scan', client, 'scan-path'));
  await autoban.settled();
  const verdict = await autoban.admit(client);
  assert.ok(isRefused(verdict));
  assert.match(verdict.message, /scan: 2 in 1m \(last: scan-path\)/);
});

test('a kind without a rate never bans', async () => {
  const { autoban } = setup({ rates: { scan: { count: 1, perMs: 1000 } } });
  const client = connection('203.0.113.10');
  for (let i = 0; i < 50; i++) autoban.report(event('auth-failure', client));
  await autoban.settled();
  assert.equal((await autoban.admit(client)).kind, 'allow');
});

test('bans expire (injected clock) and the refusal is logged once per ban', async () => {
  const { autoban, log, clock } = setup({ durationMs: HOUR });
  const client = connection('2001:db8::5');
  const result = await autoban.ban('2001:db8:0:0::5', 'manual test');
  assert.equal(result.banned, true);
  for (let i = 0; i < 5; i++) assert.equal((await autoban.admit(client)).kind, 'refuse');
  assert.equal(log.messages().filter((m) => m === 'refused banned client').length, 1, 'logged once, not per attempt');
  clock.advance(HOUR - 1);
  assert.equal((await autoban.admit(client)).kind, 'refuse', 'one millisecond before expiry');
  clock.advance(1);
  assert.equal((await autoban.admit(client)).kind, 'allow', 'expired');
  // A new ban of the same address is a new ban: logged again, once.
  for (let i = 0; i < 3; i++) autoban.report(event('auth-failure', client));
  await autoban.settled();
  for (let i = 0; i < 3; i++) assert.equal((await autoban.admit(client)).kind, 'refuse');
  assert.equal(log.messages().filter((m) => m === 'refused banned client').length, 2);
});

test('trusted proxies are never banned, with a warning that says why', async () => {
  const { autoban, log } = setup();
  // A trusted proxy's own address (e.g. its health checks or a client behind it that we cannot see).
  for (let i = 0; i < 3; i++) autoban.report(event('auth-failure', connection('127.0.0.1')));
  await autoban.settled();
  assert.ok(
    log.lines.some((l) => l.level === WARN && l.msg === 'not banning 127.0.0.1: it is a trusted proxy address (server.proxy.trusted-networks or a listener proxy.trusted-networks); the client behind it is unknown'),
    JSON.stringify(log.messages()),
  );
  assert.equal((await autoban.admit(connection('127.0.0.1'))).kind, 'allow');
  // A listener's trusted network counts too, and so does IPv4-mapped IPv6 text.
  const direct = await autoban.ban('::ffff:10.1.2.3', 'manual');
  assert.deepEqual(direct, { banned: false, why: 'it is a trusted proxy address (server.proxy.trusted-networks or a listener proxy.trusted-networks); the client behind it is unknown' });
  // client == peer while the peer is a trusted proxy (a proxy trusted by a listener whose list we were not given).
  const unknownBehindProxy = connection('192.0.2.99', { peerIsTrustedProxy: true });
  for (let i = 0; i < 3; i++) autoban.report(event('auth-failure', unknownBehindProxy));
  // PROXY v2 LOCAL: the proxy's health check.
  const local = connection('198.18.0.1', { via: 'proxy-v2-local', peerIsTrustedProxy: true });
  for (let i = 0; i < 3; i++) autoban.report(event('loiter', local, 'idle-timeout'));
  for (let i = 0; i < 5; i++) autoban.report(event('loiter', local, 'idle-timeout'));
  await autoban.settled();
  assert.ok(log.messages(WARN).includes('not banning 192.0.2.99: it is a trusted proxy address (server.proxy.trusted-networks or a listener proxy.trusted-networks); the client behind it is unknown'));
  assert.ok(log.messages(WARN).includes('not banning 198.18.0.1: it is a trusted proxy address (server.proxy.trusted-networks or a listener proxy.trusted-networks); the client behind it is unknown'));
  assert.equal((await autoban.admit(connection('192.0.2.99'))).kind, 'allow');
  assert.equal(log.messages().includes('banned client'), false, 'nothing was banned');
});

test('allowed IPs, unknown and invalid addresses are never banned, with a warning', async () => {
  const { autoban, log, store } = setup();
  for (let i = 0; i < 3; i++) autoban.report(event('auth-failure', connection('192.0.2.10')));
  for (let i = 0; i < 3; i++) autoban.report(event('auth-failure', connection('2001:db8:aaaa::1234')));
  for (let i = 0; i < 3; i++) autoban.report(event('auth-failure', connection('')));
  await autoban.settled();
  const warnings = log.messages(WARN);
  assert.ok(warnings.includes('not banning 192.0.2.10: it is listed in server.auto-ban.allowed-ips'), JSON.stringify(warnings));
  assert.ok(warnings.includes('not banning 2001:db8:aaaa::1234: it is listed in server.auto-ban.allowed-ips'));
  assert.ok(warnings.includes('not banning the client of connection c1: the client address is unknown'));
  assert.deepEqual(await autoban.ban('127.1', 'x'), { banned: false, why: 'it is not an IP address' });
  assert.deepEqual(await autoban.ban('', 'x'), { banned: false, why: 'the client address is unknown' });
  assert.ok(log.messages(WARN).includes('not banning 127.1: it is not an IP address'));
  assert.deepEqual(await store.list(), []);
  // A ban already in the store for an address that is now allowed does not refuse it.
  await store.put({ address: '192.0.2.10', reason: 'old', createdAt: 0, expiresAt: Number.MAX_SAFE_INTEGER });
  await autoban.refresh();
  assert.equal((await autoban.admit(connection('192.0.2.10'))).kind, 'allow');
  assert.equal((await autoban.admit(connection(''))).kind, 'allow');
});

test('admission uses a cache refreshed from the store at most once per second', async () => {
  const { autoban, store, clock } = setup();
  let lists = 0;
  const counting: BanStore = { ...store, list: () => (lists++, store.list()), revision: undefined };
  const cached = new AutoBan({ rates: {}, durationMs: HOUR, allowedIps: new NetworkList([]), trustedNetworks: [], store: counting, logger: captureLogger().logger, now: clock.now });
  const client = connection('198.51.100.50');
  assert.equal((await cached.admit(client)).kind, 'allow');
  await addBan(store, '198.51.100.50', HOUR, 'by another process', { now: clock.now });
  for (let i = 0; i < 20; i++) assert.equal((await cached.admit(client)).kind, 'allow', 'still the cached answer');
  assert.equal(lists, 1);
  clock.advance(1000);
  assert.equal((await cached.admit(client)).kind, 'refuse', 'seen after a second');
  assert.equal(lists, 2);
  // With a revision, an unchanged store is not listed again.
  clock.advance(5000);
  assert.equal((await autoban.admit(client)).kind, 'refuse');
  let storeLists = 0;
  const revisioned: BanStore = { ...store, list: () => (storeLists++, store.list()) };
  const second = new AutoBan({ rates: {}, durationMs: HOUR, allowedIps: new NetworkList([]), trustedNetworks: [], store: revisioned, logger: captureLogger().logger, now: clock.now });
  for (let i = 0; i < 5; i++) {
    await second.admit(client);
    clock.advance(1000);
  }
  assert.equal(storeLists, 1, 'listed once; later refreshes only read the revision');
  assert.equal(await second.unban('198.51.100.50'), true);
  assert.equal((await second.admit(client)).kind, 'allow');
});

test('a failing store does not break admission; the error is logged once', async () => {
  const clock = manualClock();
  const log = captureLogger();
  const broken: BanStore = {
    async get() { throw new Error('down'); },
    async put() { throw new Error('down'); },
    async remove() { throw new Error('down'); },
    async list(): Promise<Ban[]> { throw new Error('down'); },
    async close() {},
    description: 'broken',
  };
  const autoban = new AutoBan({ rates: { 'auth-failure': { count: 1, perMs: HOUR } }, durationMs: HOUR, allowedIps: new NetworkList([]), trustedNetworks: [], store: broken, logger: log.logger, now: clock.now });
  const client = connection('198.51.100.60');
  assert.equal((await autoban.admit(client)).kind, 'allow');
  autoban.report(event('auth-failure', client));
  await autoban.settled();
  clock.advance(1000);
  assert.equal((await autoban.admit(client)).kind, 'refuse', 'enforced from memory while the store is down');
  assert.equal(log.lines.filter((l) => l.level === 50).length, 1);
});

test('bad options fail with catalogue errors', () => {
  const base = { allowedIps: new NetworkList([]), trustedNetworks: [], store: createMemoryBanStore(), logger: captureLogger().logger };
  assert.throws(
    () => new AutoBan({ ...base, rates: { scan: { count: 0, perMs: 1000 } }, durationMs: 1000 }),
    (e: unknown) => e instanceof PorticoError && e.code === 'PORTICO_ERR_AUTOBAN_INVALID_RATE' && e.message.startsWith('server.auto-ban.scan.rate:'),
  );
  assert.throws(
    () => new AutoBan({ ...base, rates: {}, durationMs: 0 }),
    (e: unknown) => e instanceof PorticoError && e.code === 'PORTICO_ERR_AUTOBAN_INVALID_DURATION',
  );
});
