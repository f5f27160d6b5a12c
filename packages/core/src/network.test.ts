import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalAddress, canonicalSocketAddress, parseNetwork, NetworkList } from './network.ts';

test('canonical addresses', () => {
  assert.equal(canonicalAddress('192.0.2.1'), '192.0.2.1');
  assert.equal(canonicalAddress('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(canonicalAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(canonicalAddress('::1'), '::1');
  for (const bad of ['127.1', '0x7f.0.0.1', '010.0.0.1', '256.1.1.1', '1.2.3', '', 'localhost', 'fe80::1%eth0', '::ffff:010.0.0.1']) {
    assert.equal(canonicalAddress(bad), undefined, bad);
  }
});

test('networks: bare addresses, CIDR, and the errors users see', () => {
  const v4 = parseNetwork('192.0.2.10');
  assert.ok(v4.ok && v4.network.prefix === 32);
  const v6 = parseNetwork('2001:db8::1');
  assert.ok(v6.ok && v6.network.prefix === 128);
  assert.deepEqual(parseNetwork('10.0.0.0/33'), { ok: false, reason: 'prefix must be 0-32 for IPv4' });
  assert.deepEqual(parseNetwork('2001:db8::/129'), { ok: false, reason: 'prefix must be 0-128 for IPv6' });
  const mapped = parseNetwork('::ffff:10.0.0.0/104');
  assert.ok(!mapped.ok && mapped.reason.includes('write the IPv4 form'));
  assert.ok(!parseNetwork('10.0.0.0/08').ok);
  assert.ok(!parseNetwork('example.test').ok);
});

test('NetworkList matches IPv4-mapped peers against IPv4 networks and never across families', () => {
  const list = NetworkList.parse(['127.0.0.0/8', '2001:db8::/32']);
  assert.ok(list.has('127.0.0.5'));
  assert.ok(list.has('::ffff:127.0.0.5'));
  assert.ok(list.has('2001:db8::7'));
  assert.ok(!list.has('::1'));
  assert.ok(!list.has('192.0.2.1'));
  assert.ok(!list.has('garbage'));
  assert.ok(!new NetworkList([]).has('127.0.0.1'));
  // Other spellings of a mapped address still match; non-canonical IPv4 never does.
  assert.ok(list.has('::FFFF:7f00:5'));
  for (const lenient of ['127.1', '0x7f.0.0.1', '0177.0.0.1', '127.000.0.1', '::ffff:127.1']) assert.ok(!list.has(lenient), lenient);
});

// Both keep their last answer (a proxy's address comes again and again): the same question must get
// the same answer whether it is asked twice in a row or after others.
test('NetworkList.has answers a repeated address as it did the first time', () => {
  const list = NetworkList.parse(['127.0.0.0/8']);
  const asked: [string, boolean][] = [
    ['127.0.0.1', true], ['127.0.0.1', true], ['192.0.2.1', false], ['192.0.2.1', false],
    ['127.0.0.1', true], ['', false], ['', false], ['::ffff:127.0.0.9', true], ['::ffff:127.0.0.9', true],
  ];
  for (const [address, inside] of asked) assert.equal(list.has(address), inside, address);
  assert.equal(new NetworkList([]).has('127.0.0.1'), false, 'a list of its own, not the last one asked');
});

test('canonicalSocketAddress answers a repeated address as it did the first time', () => {
  const asked: [string | undefined, string][] = [
    ['::ffff:192.0.2.1', '192.0.2.1'], ['::ffff:192.0.2.1', '192.0.2.1'], ['2001:DB8:0:0::1', '2001:db8::1'],
    ['2001:DB8:0:0::1', '2001:db8::1'], ['192.0.2.7', '192.0.2.7'], [undefined, ''], ['192.0.2.7', '192.0.2.7'],
  ];
  for (const [address, canonical] of asked) assert.equal(canonicalSocketAddress(address), canonical, address);
});
