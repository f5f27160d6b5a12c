import { test } from 'node:test';
import assert from 'node:assert/strict';
import ipaddr from 'ipaddr.js';
import { parseDottedQuad, parseIpv4OrMapped } from './ipv4.ts';
import { NetworkList } from './network.ts';

/** mulberry32: a seeded generator, so that a failing random case can be reproduced. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// An independent oracle (the grammar as a regular expression) for the hand-written parser.
const STRICT_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

test('parseDottedQuad accepts exactly the strict dotted quads, with the value ipaddr.js gives', () => {
  const samples = ['0.0.0.0', '255.255.255.255', '192.0.2.1', '10.0.0.255', '1.2.3.4', '127.0.0.1'];
  const bad = ['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '256.1.1.1', '1.2.3.4 ', ' 1.2.3.4', '1..3.4', '.1.2.3', '1.2.3.', '0x7f.0.0.1', '127.1', '1.2.3.4\n', '１.2.3.4'];
  // Random strings over the characters a quad is made of, to catch what a hand-picked list misses.
  const alphabet = '0123456789.';
  const random = seeded(20261129);
  for (let i = 0; i < 5000; i++) {
    let text = '';
    const length = 1 + Math.floor(random() * 16);
    for (let j = 0; j < length; j++) text += alphabet[Math.floor(random() * alphabet.length)];
    (STRICT_QUAD.test(text) ? samples : bad).push(text);
  }
  for (const text of samples) {
    const expected = ipaddr.IPv4.parse(text).toByteArray().reduce((n, byte) => n * 256 + byte, 0);
    assert.equal(parseDottedQuad(text), expected, text);
  }
  for (const text of bad) assert.equal(parseDottedQuad(text), -1, JSON.stringify(text));
});

test('parseIpv4OrMapped reads the mapped form a dual-stack socket reports', () => {
  assert.equal(parseIpv4OrMapped('::ffff:192.0.2.1'), 0xc0000201);
  assert.equal(parseIpv4OrMapped('192.0.2.1'), 0xc0000201);
  assert.equal(parseIpv4OrMapped('::ffff:192.0.2'), -1);
  assert.equal(parseIpv4OrMapped('::1'), -1);
});

test('NetworkList.has: the IPv4 fast path agrees with ipaddr.js matching at every prefix', () => {
  const addresses = ['0.0.0.0', '255.255.255.255', '192.0.2.1', '192.0.3.1', '10.1.2.3', '128.0.0.1', '127.0.0.1'];
  for (let prefix = 0; prefix <= 32; prefix++) {
    for (const base of ['192.0.2.0', '128.0.0.0', '255.255.255.255', '10.0.0.0']) {
      const network = ipaddr.IPv4.parse(base);
      const list = NetworkList.parse([`${ipaddr.IPv4.networkAddressFromCIDR(`${base}/${prefix}`).toString()}/${prefix}`]);
      for (const address of addresses) {
        const expected = ipaddr.IPv4.parse(address).match(network, prefix);
        assert.equal(list.has(address), expected, `${address} in ${base}/${prefix}`);
        assert.equal(list.has(`::ffff:${address}`), expected, `::ffff:${address} in ${base}/${prefix}`);
      }
    }
  }
  assert.ok(!NetworkList.parse(['2001:db8::/32']).has('192.0.2.1'), 'an IPv4 address never matches an IPv6 network');
});
