import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkList, freezeConnectionInfo } from '@portico/core';
import type { ConnectionInfo } from '@portico/core';
import {
  MAX_HEADER_BYTES,
  MAX_HOPS,
  applyForwardedResolution,
  forwardedResolver,
  parseForwardedHeader,
  parseNode,
  resolveForwardedClient,
} from './forwarded.ts';

const trusted = NetworkList.parse(['10.0.0.0/8', '127.0.0.0/8', '::1', '2001:db8:ffff::/48']);
const PROXY = '10.0.0.1';

function resolve(headers: Record<string, string | string[] | undefined>, peer = PROXY) {
  return resolveForwardedClient(peer, trusted, headers);
}

test('no forwarded headers: the peer is the client', () => {
  assert.deepEqual(resolve({}), { client: PROXY, via: 'direct' });
  assert.deepEqual(resolve({ host: 'x' }, '192.0.2.9'), { client: '192.0.2.9', via: 'direct' });
});

test('untrusted peer: every forwarded header is ignored, and says so', () => {
  const r = resolve(
    { 'x-forwarded-for': '10.0.0.5', 'x-forwarded-proto': 'https', forwarded: 'for=10.0.0.6;proto=https' },
    '192.0.2.9',
  );
  assert.deepEqual(r, { client: '192.0.2.9', via: 'direct', ignored: 'peer 192.0.2.9 is not a trusted proxy' });
  assert.equal(resolve({ 'x-forwarded-proto': 'https' }, '192.0.2.9').proto, undefined);
  // An empty trusted list trusts nobody, not even loopback.
  const none = resolveForwardedClient('127.0.0.1', new NetworkList([]), { 'x-forwarded-for': '203.0.113.7' });
  assert.equal(none.client, '127.0.0.1');
  assert.equal(none.via, 'direct');
});

test('X-Forwarded-For: one trusted proxy appending the client', () => {
  const r = resolve({ 'x-forwarded-for': '203.0.113.7' });
  assert.deepEqual(r, { client: '203.0.113.7', via: 'x-forwarded-for' });
});

test('spoofing: a client-sent leftmost entry is never taken', () => {
  // The client sent "X-Forwarded-For: 1.2.3.4"; the trusted proxy appended the real address.
  assert.equal(resolve({ 'x-forwarded-for': '1.2.3.4, 203.0.113.7' }).client, '203.0.113.7');
  // The client claims to be a trusted address: still the proxy's entry wins.
  assert.equal(resolve({ 'x-forwarded-for': '10.9.9.9, 203.0.113.7' }).client, '203.0.113.7');
  // The client sends garbage to make the walk stop on the proxy: the proxy's entry is right of it.
  assert.equal(resolve({ 'x-forwarded-for': '127.1, 203.0.113.7' }).client, '203.0.113.7');
  // Forwarded: the same.
  assert.equal(resolve({ forwarded: 'for=1.2.3.4, for=203.0.113.7' }).client, '203.0.113.7');
  // A client's unterminated quote does not swallow what the proxy appended after it.
  assert.equal(resolve({ forwarded: 'for="1.2.3.4, for=203.0.113.7' }).client, '203.0.113.7');
  assert.equal(resolve({ forwarded: ['a"', 'for=203.0.113.7'] }).client, '203.0.113.7');
  assert.equal(resolve({ forwarded: 'for="x\\", for=203.0.113.7' }).client, '203.0.113.7');
});

test('chains of trusted proxies are skipped right to left', () => {
  assert.deepEqual(resolve({ 'x-forwarded-for': '198.51.100.1, 203.0.113.7, 10.1.1.1, 10.2.2.2' }), {
    client: '203.0.113.7',
    via: 'x-forwarded-for',
  });
  // Every hop trusted: the leftmost is the client.
  assert.equal(resolve({ 'x-forwarded-for': '10.3.3.3, 10.1.1.1, 127.0.0.1' }).client, '10.3.3.3');
  // Several header lines join with commas, in order.
  assert.equal(resolve({ 'x-forwarded-for': ['198.51.100.1, 203.0.113.7', '10.1.1.1'] }).client, '203.0.113.7');
  assert.equal(resolve({ 'x-forwarded-for': ['203.0.113.7', '198.51.100.2'] }).client, '198.51.100.2');
});

test('IPv6 forms, ports and brackets are normalised', () => {
  const cases: [string, string, number | undefined][] = [
    ['2001:db8::1', '2001:db8::1', undefined],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1', undefined],
    ['[2001:db8::1]', '2001:db8::1', undefined],
    ['[2001:db8::1]:443', '2001:db8::1', 443],
    ['192.0.2.1:8080', '192.0.2.1', 8080],
    ['::ffff:192.0.2.1', '192.0.2.1', undefined],
    ['[::ffff:192.0.2.1]:1234', '192.0.2.1', 1234],
  ];
  for (const [entry, client, port] of cases) {
    const r = resolve({ 'x-forwarded-for': entry });
    assert.equal(r.client, client, entry);
    assert.equal(r.clientPort, port, entry);
    assert.equal(r.via, 'x-forwarded-for', entry);
  }
  // Trusted IPv6 proxies are skipped like IPv4 ones, and ::ffff: forms match IPv4 networks.
  assert.equal(resolve({ 'x-forwarded-for': '2001:db8::7, 2001:db8:ffff::2, ::ffff:10.0.0.2' }).client, '2001:db8::7');
  assert.equal(resolve({ 'x-forwarded-for': '2001:db8::7' }, '::1').client, '2001:db8::7');
  assert.equal(resolve({ 'x-forwarded-for': '2001:db8::7' }, '::ffff:10.0.0.1').client, '2001:db8::7');
});

test('non-canonical and malformed entries stop the walk; nothing left of them is trusted', () => {
  for (const bad of ['127.1', '0x7f.0.0.1', '010.0.0.1', '1.2.3.4.5', '', '256.1.1.1', 'localhost', 'fe80::1%eth0',
    '[192.0.2.1]:80', '192.0.2.1:', '192.0.2.1:080', '192.0.2.1:65536', '[2001:db8::1', '[2001:db8::1]x', '"192.0.2.1"',
    '::ffff:010.0.0.1']) {
    assert.equal(parseNode(bad).kind, 'malformed', bad);
    // Garbage is the rightmost entry: the peer is all we know.
    const alone = resolve({ 'x-forwarded-for': `203.0.113.7, ${bad}` });
    assert.equal(alone.client, PROXY, bad);
    assert.equal(alone.via, 'direct', bad);
    assert.match(alone.ignored ?? '', /malformed X-Forwarded-For entry .* at hop 1 from the right; using the peer 10\.0\.0\.1/, bad);
    // Garbage behind a trusted hop: the nearest valid hop right of it.
    const behind = resolve({ 'x-forwarded-for': `203.0.113.7, ${bad}, 10.1.1.1` });
    assert.equal(behind.client, '10.1.1.1', bad);
    assert.equal(behind.via, 'x-forwarded-for', bad);
    assert.match(behind.ignored ?? '', /at hop 2 from the right; using 10\.1\.1\.1 and nothing left of it/, bad);
  }
  assert.equal(resolve({ 'x-forwarded-for': '127.1' }).ignored, 'malformed X-Forwarded-For entry "127.1" (not a canonical IP address) at hop 1 from the right; using the peer 10.0.0.1 and nothing left of it');
  // Empty entries from stray commas are malformed too.
  assert.equal(resolve({ 'x-forwarded-for': '203.0.113.7,,10.1.1.1' }).client, '10.1.1.1');
  assert.equal(resolve({ 'x-forwarded-for': '' }).client, PROXY);
});

test('unknown and obfuscated identifiers stop the walk at the hop right of them', () => {
  assert.equal(resolve({ forwarded: 'for=unknown' }).client, PROXY);
  assert.equal(resolve({ forwarded: 'for=unknown' }).via, 'direct');
  assert.match(resolve({ forwarded: 'for=unknown' }).ignored ?? '', /Forwarded hop 1 from the right is "unknown"; using the peer 10\.0\.0\.1/);
  assert.equal(resolve({ forwarded: 'for=203.0.113.7, for=_hidden, for=10.1.1.1' }).client, '10.1.1.1');
  assert.equal(resolve({ forwarded: 'for=203.0.113.7, for=_hidden, for=10.1.1.1' }).via, 'forwarded');
  assert.equal(resolve({ 'x-forwarded-for': '203.0.113.7, unknown' }).client, PROXY);
  // An element without for= is an unknown hop.
  assert.equal(resolve({ forwarded: 'for=203.0.113.7, proto=https' }).client, PROXY);
  // Obfuscated ports are dropped, the address kept.
  assert.deepEqual(resolve({ forwarded: 'for="192.0.2.43:_port1"' }), { client: '192.0.2.43', via: 'forwarded' });
});

test('Forwarded: several params and elements, quoting, mixed case', () => {
  assert.deepEqual(resolve({ forwarded: 'for=192.0.2.43' }), { client: '192.0.2.43', via: 'forwarded' });
  assert.deepEqual(resolve({ forwarded: 'For="[2001:db8:cafe::17]:4711"' }), {
    client: '2001:db8:cafe::17',
    clientPort: 4711,
    via: 'forwarded',
  });
  assert.deepEqual(resolve({ forwarded: 'for=192.0.2.60;proto=http;by=203.0.113.43;host=example.test' }), {
    client: '192.0.2.60',
    via: 'forwarded',
    proto: 'http',
    host: 'example.test',
  });
  assert.deepEqual(resolve({ forwarded: 'FOR=198.51.100.17;PROTO=HTTPS, for=10.1.1.1;proto=http' }), {
    client: '198.51.100.17',
    via: 'forwarded',
    proto: 'https',
  });
  assert.equal(resolve({ forwarded: 'for=192.0.2.43, for="[2001:db8:cafe::17]", for=10.1.1.1' }).client, '2001:db8:cafe::17');
  assert.equal(resolve({ forwarded: 'for = 192.0.2.43' }).client, PROXY, 'whitespace around = is not allowed');
  assert.equal(resolve({ forwarded: 'for="\\1\\9\\2.0.2.43"' }).client, '192.0.2.43', 'quoted-pair');
  // Lenient: unquoted IPv6 (a proxy configured as for=$remote_addr).
  assert.equal(resolve({ forwarded: 'for=2001:db8::9' }).client, '2001:db8::9');
  assert.equal(resolve({ forwarded: 'for=[2001:db8::9]:80' }).clientPort, 80);
  // Duplicate parameters make the element malformed.
  const dup = resolve({ forwarded: 'for=192.0.2.1;for=192.0.2.2' });
  assert.equal(dup.client, PROXY);
  assert.match(dup.ignored ?? '', /duplicate parameter for/);
  // Forwarded is preferred over X-Forwarded-For; the latter is not mixed in.
  const both = resolve({ forwarded: 'for=192.0.2.43', 'x-forwarded-for': '198.51.100.1', 'x-forwarded-proto': 'https' });
  assert.equal(both.client, '192.0.2.43');
  assert.equal(both.via, 'forwarded');
  assert.equal(both.proto, undefined);
  assert.match(both.ignored ?? '', /X-Forwarded-For ignored: Forwarded is preferred/);
  // Several Forwarded lines join with commas.
  assert.equal(resolve({ forwarded: ['for=192.0.2.43', 'for=10.1.1.1'] }).client, '192.0.2.43');
});

test('the header option pins which header carries addresses', () => {
  const headers = { forwarded: 'for=1.2.3.4', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' };
  const xffOnly = resolveForwardedClient(PROXY, trusted, headers, { header: 'x-forwarded-for' });
  assert.equal(xffOnly.client, '203.0.113.7');
  assert.equal(xffOnly.proto, 'https');
  const fwdOnly = resolveForwardedClient(PROXY, trusted, { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' }, { header: 'forwarded' });
  assert.deepEqual(fwdOnly, { client: PROXY, via: 'direct', ignored: 'X-Forwarded-For ignored: only Forwarded is read on this listener' });
});

test('parseForwardedHeader splits elements and recovers after errors', () => {
  assert.deepEqual(
    parseForwardedHeader('for=a;proto=https, for="b,c";by=x ,for=d').map((e) => (e.params ? Object.fromEntries(e.params) : e.error)),
    [{ for: 'a', proto: 'https' }, { for: 'b,c', by: 'x' }, { for: 'd' }],
  );
  assert.deepEqual(parseForwardedHeader('for=a, , for=b').map((e) => e.error ?? 'ok'), ['ok', 'empty element', 'ok']);
  assert.deepEqual(parseForwardedHeader('for=a;').map((e) => e.error ?? 'ok'), ['ok']);
  assert.deepEqual(parseForwardedHeader('for=a,').map((e) => e.error ?? 'ok'), ['ok', 'empty element']);
  assert.deepEqual(parseForwardedHeader('for').map((e) => e.error ?? 'ok'), ['parameter for without a value']);
});

test('X-Forwarded-Proto: the nearest proxy value, only http/https, only from a trusted peer', () => {
  assert.equal(resolve({ 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' }).proto, 'https');
  assert.equal(resolve({ 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'http, https' }).proto, 'https');
  assert.equal(resolve({ 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https, http' }).proto, 'http');
  assert.equal(resolve({ 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': ' HTTPS ' }).proto, 'https');
  const odd = resolve({ 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'wss' });
  assert.equal(odd.proto, undefined);
  assert.match(odd.ignored ?? '', /X-Forwarded-Proto "wss" ignored/);
  // Without X-Forwarded-For, a trusted proxy may still say the client used https.
  assert.deepEqual(resolve({ 'x-forwarded-proto': 'https' }), { client: PROXY, via: 'direct', proto: 'https' });
  assert.equal(resolve({ 'x-forwarded-proto': 'https' }, '192.0.2.9').proto, undefined);
  // Forwarded proto= comes from the element the client was taken from.
  assert.equal(resolve({ forwarded: 'for=203.0.113.7;proto=https, for=10.1.1.1;proto=http' }).proto, 'https');
  assert.equal(resolve({ forwarded: 'for=203.0.113.7;proto=ftp' }).proto, undefined);
  assert.equal(resolve({ forwarded: 'for=unknown;proto=https' }).proto, 'https');
  assert.equal(resolve({ 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'mail.example.test' }).host, 'mail.example.test');
  assert.equal(resolve({ 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'a b' }).host, undefined);
});

test('caps: headers over 8 KiB are ignored; at most 32 hops are considered', () => {
  const huge = `${'10.1.1.1, '.repeat(Math.ceil(MAX_HEADER_BYTES / 10))}203.0.113.7`;
  const big = resolve({ 'x-forwarded-for': huge });
  assert.equal(big.client, PROXY);
  assert.equal(big.via, 'direct');
  assert.match(big.ignored ?? '', /X-Forwarded-For over 8192 bytes ignored/);
  assert.equal(resolve({ forwarded: `for=${'x'.repeat(MAX_HEADER_BYTES)}` }).client, PROXY);

  const hops = Array.from({ length: 40 }, (_, i) => `10.0.1.${i}`);
  const capped = resolve({ 'x-forwarded-for': ['203.0.113.7', ...hops].join(', ') });
  assert.equal(capped.client, `10.0.1.${40 - MAX_HOPS}`, 'leftmost considered hop');
  assert.match(capped.ignored ?? '', /has 41 hops; only the rightmost 32 were considered/);
  const withinCap = resolve({ 'x-forwarded-for': ['203.0.113.7', ...hops.slice(0, 31)].join(', ') });
  assert.equal(withinCap.client, '203.0.113.7');
});

test('header names are matched case-insensitively in hand-built bags', () => {
  assert.equal(resolve({ 'X-Forwarded-For': '203.0.113.7' }).client, '203.0.113.7');
});

function info(overrides: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return freezeConnectionInfo({
    id: 'c1',
    listener: 'web',
    client: { address: PROXY, port: 40000 },
    server: { address: '10.0.0.2', port: 8080 },
    peer: { address: PROXY, port: 40000 },
    via: 'direct',
    tls: null,
    peerIsTrustedProxy: false,
    openedAt: 1,
    ...overrides,
  });
}

test('applyForwardedResolution builds a new frozen ConnectionInfo', () => {
  const base = info();
  const next = applyForwardedResolution(base, { client: '203.0.113.7', clientPort: 5555, via: 'x-forwarded-for', proto: 'https' });
  assert.notEqual(next, base);
  assert.ok(Object.isFrozen(next) && Object.isFrozen(next.client) && Object.isFrozen(next.tls));
  assert.deepEqual(next.client, { address: '203.0.113.7', port: 5555 });
  assert.deepEqual(next.peer, base.peer);
  assert.equal(next.via, 'x-forwarded-for');
  assert.deepEqual(next.tls, { terminatedBy: 'proxy' });
  assert.equal(next.peerIsTrustedProxy, true);
  assert.equal(next.id, base.id);
  // No port from the proxy: 0. Nothing to change: the same object.
  assert.equal(applyForwardedResolution(base, { client: '203.0.113.7', via: 'forwarded' }).client.port, 0);
  assert.equal(applyForwardedResolution(base, { client: PROXY, via: 'direct' }), base);
  // proto http from the proxy: the client's leg was plaintext, even on our TLS socket.
  const tlsInfo = info({ tls: { terminatedBy: 'server', version: 'TLSv1.3' } });
  assert.equal(applyForwardedResolution(tlsInfo, { client: PROXY, via: 'direct', proto: 'http' }).tls, null);
  assert.deepEqual(applyForwardedResolution(tlsInfo, { client: PROXY, via: 'direct', proto: 'https' }).tls, { terminatedBy: 'server', version: 'TLSv1.3' });
});

test('forwardedResolver: the connection client (socket peer or PROXY source) is the peer checked', () => {
  const resolveClient = forwardedResolver(trusted);
  const r = resolveClient(info(), { 'x-forwarded-for': '1.2.3.4, 203.0.113.7', 'x-forwarded-proto': 'https' });
  assert.equal(r.info.client.address, '203.0.113.7');
  assert.equal(r.info.tls?.terminatedBy, 'proxy');
  assert.equal(r.ignored, undefined);
  const untrusted = info({ client: { address: '192.0.2.9', port: 1 }, peer: { address: '192.0.2.9', port: 1 } });
  const u = resolveClient(untrusted, { 'x-forwarded-for': '203.0.113.7' });
  assert.equal(u.info, untrusted);
  assert.equal(u.ignored, 'peer 192.0.2.9 is not a trusted proxy');
});
