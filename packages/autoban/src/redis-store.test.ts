import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { NetworkList, PorticoError } from '@portico/core';
import { AutoBan, addBan, listBans, openRedisBanStore, removeBan } from './index.ts';
import { startRedis } from './test-redis.ts';
import type { TestRedis } from './test-redis.ts';
import { captureLogger, connection, event } from './test-support.ts';

let server: TestRedis;
const clients: Redis[] = [];

async function client(): Promise<Redis> {
  const redis = new Redis(server.port, '127.0.0.1', { lazyConnect: true });
  clients.push(redis);
  await redis.connect();
  return redis;
}

before(async () => {
  server = await startRedis();
});
after(async () => {
  for (const c of clients) c.disconnect();
  await server?.stop();
});

/** Polls `check` until it holds or the deadline passes; answers the time it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) assert.fail(`not within ${ms}ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

function autoBanOn(redis: Redis, prefix: string) {
  const log = captureLogger();
  const autoban = new AutoBan({
    rates: { 'auth-failure': { count: 2, perMs: 60_000 } },
    durationMs: 3_600_000,
    allowedIps: new NetworkList([]),
    trustedNetworks: [NetworkList.parse(['10.0.0.0/8'])],
    store: openRedisBanStore(redis, { keyPrefix: prefix }),
    logger: log.logger,
  });
  return { autoban, log };
}

test('two AutoBan instances on one Redis see each other\'s bans (and unbans) within a second', async () => {
  const [a, b] = [await client(), await client()];
  const one = autoBanOn(a, 'test1:');
  const two = autoBanOn(b, 'test1:');
  const bad = connection('198.51.100.20', { peer: { address: '10.0.0.1', port: 1 }, via: 'proxy-v1', peerIsTrustedProxy: true });
  // Both have loaded their cache before the ban.
  assert.equal((await one.autoban.admit(bad)).kind, 'allow');
  assert.equal((await two.autoban.admit(bad)).kind, 'allow');
  one.autoban.report(event('auth-failure', bad));
  one.autoban.report(event('auth-failure', bad));
  await one.autoban.settled();
  assert.equal((await one.autoban.admit(bad)).kind, 'refuse', 'the banning process knows at once');
  const seen = await within(1500, async () => (await two.autoban.admit(bad)).kind === 'refuse');
  assert.ok(seen <= 1100, `seen after ${seen}ms`);
  assert.ok(two.log.messages().includes('refused banned client'));
  // The key carries an expiry (PX) so Redis forgets the ban when it ends.
  const ttl = await a.pttl('test1:ban:198.51.100.20');
  assert.ok(ttl > 3_500_000 && ttl <= 3_600_000, `pttl ${ttl}`);
  assert.equal(await two.autoban.unban('198.51.100.20'), true);
  await within(1500, async () => (await one.autoban.admit(bad)).kind === 'allow');
  await Promise.all([one.autoban.close(), two.autoban.close()]);
});

test('bans vanish from Redis when they expire; list walks the keys with SCAN', async () => {
  const redis = await client();
  const store = openRedisBanStore(redis, { keyPrefix: 'test2:' });
  await addBan(store, '192.0.2.1', 150, 'short');
  await addBan(store, '2001:db8::1', 60_000, 'long');
  for (let i = 0; i < 30; i++) await addBan(store, `203.0.113.${i}`, 60_000, 'many');
  assert.equal((await listBans(store)).length, 32);
  assert.equal((await store.get('192.0.2.1'))?.reason, 'short');
  await within(2000, async () => (await redis.exists('test2:ban:192.0.2.1')) === 0);
  assert.equal(await store.get('192.0.2.1'), undefined);
  const bans = await listBans(store);
  assert.equal(bans.length, 31);
  assert.ok(bans.some((b) => b.address === '2001:db8::1' && b.reason === 'long'));
  assert.equal(await removeBan(store, '2001:db8::1'), true);
  assert.equal(await removeBan(store, '2001:db8::1'), false);
  // Another prefix is another ban list.
  assert.deepEqual(await openRedisBanStore(redis, { keyPrefix: 'test3:' }).list(), []);
  await store.close();
  await assert.rejects(store.list(), (e: unknown) => e instanceof PorticoError && e.code === 'PORTICO_ERR_AUTOBAN_STORE_CLOSED');
  assert.equal(redis.status, 'ready', 'the caller owns the client');
});

test('Redis errors surface as PORTICO_ERR_AUTOBAN_STORE_FAILED', async () => {
  const dead = new Redis(1, '127.0.0.1', { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
  dead.on('error', () => {});
  clients.push(dead);
  const store = openRedisBanStore(dead);
  await assert.rejects(listBans(store), (e: unknown) => e instanceof PorticoError && e.code === 'PORTICO_ERR_AUTOBAN_STORE_FAILED' && /redis portico:/.test(e.message));
});
