import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { freezeConnectionInfo, NetworkList, parseRate, PorticoError } from '@portico/core';
import type { ConnectionInfo, Verdict } from '@portico/core';
import { createRateLimits } from './index.ts';
import { startRedis } from './test-redis.ts';
import type { TestRedis } from './test-redis.ts';

function info(client: string, overrides: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return freezeConnectionInfo({
    id: 'c1',
    listener: 'smtp',
    client: { address: client, port: 40000 },
    server: { address: '127.0.0.1', port: 2525 },
    peer: { address: client, port: 40000 },
    via: 'direct',
    tls: null,
    peerIsTrustedProxy: false,
    openedAt: 0,
    ...overrides,
  });
}

function kinds(verdicts: Verdict[]): string[] {
  return verdicts.map((v) => v.kind);
}

test('memory: allows up to the rate, then refuses temporarily with retryAfter and a reason code', async () => {
  const limits = createRateLimits({ limits: { connection: parseRate('3/1m')! } });
  const verdicts: Verdict[] = [];
  for (let i = 0; i < 5; i++) verdicts.push(await limits.consume('connection', '192.0.2.1'));
  assert.deepEqual(kinds(verdicts), ['allow', 'allow', 'allow', 'refuse', 'refuse']);
  const last = verdicts[4]!;
  assert.ok(last.kind === 'refuse');
  assert.equal(last.reason, 'rate-limit:connection');
  assert.equal(last.temporary, true);
  assert.ok(last.retryAfter! >= 1 && last.retryAfter! <= 60, `retryAfter ${last.retryAfter}`);
  assert.match(last.message, /try again in \d+s/);
  // Another key and another kind have their own counters.
  assert.equal((await limits.consume('connection', '192.0.2.2')).kind, 'allow');
  assert.equal((await limits.consume('message', '192.0.2.1')).kind, 'allow', 'no message limit configured');
  await limits.close();
});

test('memory: counters are per kind and per key (accounts too)', async () => {
  const limits = createRateLimits({ limits: { 'auth-failure': { count: 2, perMs: 3_600_000 }, message: { count: 1, perMs: 60_000 } } });
  assert.equal((await limits.consume('auth-failure', 'alice@example.test')).kind, 'allow');
  assert.equal((await limits.consume('auth-failure', 'alice@example.test')).kind, 'allow');
  assert.equal((await limits.peek('auth-failure', 'alice@example.test')).kind, 'refuse', 'peek: the next one would be refused');
  assert.equal((await limits.peek('auth-failure', 'bob@example.test')).kind, 'allow');
  const third = await limits.consume('auth-failure', 'alice@example.test');
  assert.ok(third.kind === 'refuse' && third.reason === 'rate-limit:auth-failure');
  assert.equal((await limits.consume('message', 'alice@example.test')).kind, 'allow');
  assert.equal((await limits.consume('message', 'alice@example.test')).kind, 'refuse');
  await limits.reset('auth-failure', 'alice@example.test');
  assert.equal((await limits.consume('auth-failure', 'alice@example.test')).kind, 'allow', 'reset forgets the count');
  await limits.close();
});

test('check keys by the real client address; unknown clients and exempt networks are never limited', async () => {
  const limits = createRateLimits({ limits: { connection: { count: 1, perMs: 60_000 } }, exempt: NetworkList.parse(['198.51.100.0/24']) });
  // Two clients behind one proxy are counted separately.
  const viaProxy = (client: string) =>
    info(client, { peer: { address: '10.0.0.1', port: 5000 }, via: 'proxy-v2', peerIsTrustedProxy: true });
  assert.equal((await limits.check(viaProxy('192.0.2.1'), 'connection')).kind, 'allow');
  assert.equal((await limits.check(viaProxy('192.0.2.2'), 'connection')).kind, 'allow');
  assert.equal((await limits.check(viaProxy('192.0.2.1'), 'connection')).kind, 'refuse');
  // Unknown client: empty address, PROXY v2 LOCAL health checks, client == trusted peer.
  for (let i = 0; i < 3; i++) {
    assert.equal((await limits.check(info(''), 'connection')).kind, 'allow');
    assert.equal((await limits.check(info('10.0.0.1', { via: 'proxy-v2-local', peerIsTrustedProxy: true }), 'connection')).kind, 'allow');
    assert.equal((await limits.check(info('10.0.0.1', { peerIsTrustedProxy: true }), 'connection')).kind, 'allow');
    assert.equal((await limits.check(info('198.51.100.7'), 'connection')).kind, 'allow', 'exempt');
    assert.equal((await limits.consume('connection', '::ffff:198.51.100.7')).kind, 'allow', 'exempt, mapped form');
  }
  await limits.close();
});

test('bad options and use after close fail with catalogue errors', async () => {
  assert.throws(
    () => createRateLimits({ limits: { connection: { count: 0, perMs: 1000 } } }),
    (e: unknown) => e instanceof PorticoError && e.code === 'PORTICO_ERR_RATELIMIT_INVALID_SPEC' && /server\.rate-limit\.connection/.test(e.message),
  );
  assert.throws(
    () => createRateLimits({ limits: { bogus: { count: 1, perMs: 1000 } } as never }),
    (e: unknown) => e instanceof PorticoError && e.code === 'PORTICO_ERR_RATELIMIT_UNKNOWN_KIND',
  );
  assert.throws(
    () => createRateLimits({ limits: {}, keyPrefix: 'has space' }),
    (e: unknown) => e instanceof PorticoError && e.code === 'PORTICO_ERR_RATELIMIT_INVALID_KEY_PREFIX',
  );
  const limits = createRateLimits({ limits: {} });
  await limits.close();
  await assert.rejects(limits.consume('connection', '192.0.2.1'), (e: unknown) => e instanceof PorticoError && e.code === 'PORTICO_ERR_RATELIMIT_CLOSED');
});

test('a short window expires and the key is allowed again', async () => {
  // Windows are whole seconds (Redis EXPIRE); "1/1s" is the shortest.
  const limits = createRateLimits({ limits: { 'http-request': { count: 1, perMs: 1000 } } });
  assert.equal((await limits.consume('http-request', '192.0.2.9')).kind, 'allow');
  const refused = await limits.consume('http-request', '192.0.2.9');
  assert.ok(refused.kind === 'refuse' && refused.retryAfter === 1);
  const deadline = Date.now() + 3000;
  let verdict: Verdict = refused;
  while (verdict.kind === 'refuse' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    verdict = await limits.peek('http-request', '192.0.2.9');
  }
  assert.equal(verdict.kind, 'allow');
  await limits.close();
});

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

test('redis: two instances (two processes in production) share one counter', async () => {
  const a = new Redis(redis.port, '127.0.0.1', { lazyConnect: true });
  const b = new Redis(redis.port, '127.0.0.1', { lazyConnect: true });
  await Promise.all([a.connect(), b.connect()]);
  try {
    const spec = { connection: { count: 4, perMs: 60_000 } };
    const one = createRateLimits({ limits: spec, redis: a, keyPrefix: 'test:shared' });
    const two = createRateLimits({ limits: spec, redis: b, keyPrefix: 'test:shared' });
    const verdicts = [
      await one.consume('connection', '203.0.113.5'),
      await two.consume('connection', '203.0.113.5'),
      await one.consume('connection', '203.0.113.5'),
      await two.consume('connection', '203.0.113.5'),
      await one.consume('connection', '203.0.113.5'),
      await two.consume('connection', '203.0.113.5'),
    ];
    assert.deepEqual(kinds(verdicts), ['allow', 'allow', 'allow', 'allow', 'refuse', 'refuse']);
    const refused = verdicts[5]!;
    assert.ok(refused.kind === 'refuse' && refused.retryAfter! > 0 && refused.retryAfter! <= 60);
    assert.equal((await two.peek('connection', '203.0.113.5')).kind, 'refuse');
    // The counter lives in Redis under the prefix, with an expiry.
    const ttl = await a.pttl('test:shared:connection:203.0.113.5');
    assert.ok(ttl > 0 && ttl <= 60_000, `pttl ${ttl}`);
    // Another prefix is another group of counters.
    const other = createRateLimits({ limits: spec, redis: a, keyPrefix: 'test:other' });
    assert.equal((await other.consume('connection', '203.0.113.5')).kind, 'allow');
    await two.reset('connection', '203.0.113.5');
    assert.equal((await one.consume('connection', '203.0.113.5')).kind, 'allow');
    await Promise.all([one.close(), two.close(), other.close()]);
    assert.equal(a.status, 'ready', 'close() leaves the caller-owned client alone');
  } finally {
    a.disconnect();
    b.disconnect();
  }
});

test('redis: when Redis is unreachable, limits still apply from memory (insurance) without hanging', async () => {
  const dead = new Redis(1, '127.0.0.1', { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
  dead.on('error', () => {});
  try {
    const limits = createRateLimits({ limits: { connection: { count: 1, perMs: 60_000 } }, redis: dead });
    assert.equal((await limits.consume('connection', '192.0.2.77')).kind, 'allow');
    assert.equal((await limits.consume('connection', '192.0.2.77')).kind, 'refuse');
    await limits.close();
  } finally {
    dead.disconnect();
  }
});
