import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkList, PorticoError } from '@portico/core';
import { addBan, createMemoryBanStore, formatBan, listBans, removeBan } from './index.ts';
import { manualClock } from './test-support.ts';

const code = (c: string) => (e: unknown) => e instanceof PorticoError && e.code === c;

test('addBan validates and canonicalises the address, takes ms or a duration text', async () => {
  const clock = manualClock();
  const store = createMemoryBanStore({ now: clock.now });
  const ban = await addBan(store, ' ::FFFF:192.0.2.44 ', '1d', 'spam\r\nInjected: yes', { now: clock.now });
  assert.deepEqual(ban, { address: '192.0.2.44', reason: 'spam Injected: yes', createdAt: clock.now(), expiresAt: clock.now() + 86_400_000 });
  await addBan(store, '2001:DB8:0::1', 60_000, undefined, { now: clock.now });
  assert.equal((await store.get('2001:db8::1'))?.reason, 'manual');
  for (const bad of ['127.1', '010.0.0.1', '192.0.2.1:25', '10.0.0.0/8', '[::1]', 'example.test', '']) {
    await assert.rejects(addBan(store, bad, 1000), code('PORTICO_ERR_AUTOBAN_INVALID_ADDRESS'), bad);
  }
  await assert.rejects(addBan(store, '192.0.2.1', 'soon'), (e: unknown) => code('PORTICO_ERR_AUTOBAN_INVALID_DURATION')(e) && /"soon".*"1d"/.test((e as Error).message));
  await assert.rejects(addBan(store, '192.0.2.1', 0), code('PORTICO_ERR_AUTOBAN_INVALID_DURATION'));
  await assert.rejects(addBan(store, '192.0.2.1', Number.NaN), code('PORTICO_ERR_AUTOBAN_INVALID_DURATION'));
});

test('addBan refuses trusted proxies and allowed IPs when told about them', async () => {
  const store = createMemoryBanStore();
  const options = { trustedNetworks: [NetworkList.parse(['10.0.0.0/8'])], allowedIps: NetworkList.parse(['192.0.2.10']) };
  await assert.rejects(addBan(store, '10.9.9.9', 1000, 'x', options), (e: unknown) =>
    code('PORTICO_ERR_AUTOBAN_NEVER_BANNED')(e) && /not banning 10\.9\.9\.9: it is a trusted proxy address/.test((e as Error).message),
  );
  await assert.rejects(addBan(store, '192.0.2.10', 1000, 'x', options), code('PORTICO_ERR_AUTOBAN_NEVER_BANNED'));
  assert.deepEqual(await listBans(store), []);
});

test('listBans sorts by expiry; removeBan says whether there was one; formatBan is one line', async () => {
  const clock = manualClock();
  const store = createMemoryBanStore({ now: clock.now });
  await addBan(store, '192.0.2.3', '2h', 'b', { now: clock.now });
  await addBan(store, '192.0.2.2', '1h', 'a', { now: clock.now });
  assert.deepEqual((await listBans(store)).map((b) => b.address), ['192.0.2.2', '192.0.2.3']);
  assert.equal(await removeBan(store, '192.0.2.2'), true);
  assert.equal(await removeBan(store, '192.0.2.2'), false);
  await assert.rejects(removeBan(store, 'nope'), code('PORTICO_ERR_AUTOBAN_INVALID_ADDRESS'));
  const [left] = await listBans(store);
  assert.equal(formatBan(left!, clock.now()), '192.0.2.3\tuntil 2030-01-01T02:00:00.000Z (2h left)\tb');
});
