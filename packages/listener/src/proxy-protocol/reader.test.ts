import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalAddress } from '@portico/core';
import { ProxyHeaderReader, detectProxyHeader } from './index.ts';
import { buildV2, bytewise, pushAll, tlv } from './testing.ts';
import type { ReaderStep } from './types.ts';

function reason(step: ReaderStep): string {
  assert.equal(step.state, 'malformed');
  return (step as Extract<ReaderStep, { state: 'malformed' }>).reason;
}

function v1(line: string): ReaderStep {
  return pushAll([Buffer.from(line, 'latin1')]).step;
}

test('reasons name the byte or field at fault', () => {
  assert.equal(reason(v1('PROXY TCP4 1.2.3.4 5.6.7.8 0080 25\r\n')), 'v1: source port "0080" has a leading zero');
  assert.equal(reason(v1('PROXY TCP4 1.2.3.4 5.6.7.8 80 65536\r\n')), 'v1: destination port "65536" is over 65535');
  assert.equal(reason(v1('PROXY TCP4 010.1.1.1 5.6.7.8 80 25\r\n')), 'v1: source address "010.1.1.1" is not a canonical IPv4 address: octet "010" has a leading zero');
  assert.equal(reason(v1('PROXY TCP4 1.2.3.4 5.6.7.8 80 25 x\r\n')), 'v1: extra field after the destination port at offset 32');
  assert.equal(reason(v1('PROXY TCP6 ::1 1.2.3.4 80 25\r\n')), 'v1: destination address "1.2.3.4" is not an IPv6 address, but the protocol is TCP6');
  assert.equal(reason(pushAll([Buffer.from('GET / HTTP/1.1\r\n')]).step), 'not a PROXY protocol header (first bytes "GET / HT")');
  assert.equal(reason(pushAll([Buffer.from('0d0a0d0a000d0a515549540a3111000c', 'hex')]).step), 'v2: unsupported version/command byte 0x31 at offset 12 (expected 0x21 PROXY or 0x20 LOCAL)');
  assert.match(reason(pushAll([buildV2({ crc: 'bad' })]).step), /^v2: CRC32C mismatch \(header says 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/);
  const overrun = Buffer.concat([buildV2(), Buffer.from([0x20, 0x00, 0x28])]);
  overrun.writeUInt16BE(overrun.length - 16, 14);
  assert.equal(reason(pushAll([overrun]).step), 'v2: TLV 0x20 at offset 28 overruns the header (length 40, only 0 bytes left)');
});

test('decides as early as possible', () => {
  // The first byte cannot start a signature.
  assert.equal(new ProxyHeaderReader().push(Buffer.from('G')).state, 'malformed');
  assert.equal(new ProxyHeaderReader().push(Buffer.from([0x16])).state, 'malformed');
  // A bad byte inside a signature.
  assert.equal(pushAll(bytewise(Buffer.from('PROXX'))).step.state, 'malformed');
  // v1: the 107th byte without CRLF.
  const long = Buffer.from('PROXY UNKNOWN ' + 'x'.repeat(200));
  const { step, decidedAt } = pushAll(bytewise(long));
  assert.equal(step.state, 'malformed');
  assert.equal(decidedAt, 106);
  // v1: a bad field is refused before the line ends.
  assert.equal(pushAll([Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 00')]).step.state, 'malformed');
  assert.equal(pushAll([Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 80 25 ')]).step.state, 'malformed');
  assert.equal(pushAll([Buffer.from('PROXY TCP9')]).step.state, 'malformed');
  // v2: bad version/command byte and family, and a length too short for the addresses, at once.
  assert.equal(pushAll([Buffer.from('0d0a0d0a000d0a515549540a11', 'hex')]).step.state, 'malformed');
  assert.equal(pushAll([Buffer.from('0d0a0d0a000d0a515549540a2199', 'hex')]).step.state, 'malformed');
  assert.equal(pushAll([Buffer.from('0d0a0d0a000d0a515549540a21110008', 'hex')]).step.state, 'malformed');
});

test('v2 waits for exactly 16 + length bytes', () => {
  const header = buildV2({ tlvs: [tlv(0x04, Buffer.alloc(1000))] });
  const reader = new ProxyHeaderReader();
  assert.equal(reader.push(header.subarray(0, header.length - 1)).state, 'incomplete');
  assert.equal(reader.buffered, header.length - 1);
  const step = reader.push(Buffer.concat([header.subarray(header.length - 1), Buffer.from('DATA')]));
  assert.equal(step.state, 'done');
  assert.equal((step as Extract<ReaderStep, { state: 'done' }>).rest.toString(), 'DATA');
});

test('the largest v2 header (16 + 65535 bytes) in 1000-byte chunks, buffering no more than the header', () => {
  const header = buildV2({ command: 0x20, family: 0x00, addresses: Buffer.alloc(0), tlvs: [tlv(0x04, Buffer.alloc(65532))] });
  assert.equal(header.length, 16 + 65535);
  const reader = new ProxyHeaderReader();
  let step: ReaderStep = { state: 'incomplete' };
  const input = Buffer.concat([header, Buffer.from('after')]);
  for (let i = 0; i < input.length; i += 1000) {
    step = reader.push(input.subarray(i, i + 1000));
    assert.ok(reader.buffered <= 16 + 65535);
    if (step.state !== 'incomplete') break;
  }
  assert.equal(step.state, 'done');
  assert.equal((step as Extract<ReaderStep, { state: 'done' }>).rest.toString(), 'after');
});

test('the whole header in one chunk: parsed in place, rest is a view of the chunk', () => {
  const chunk = Buffer.concat([Buffer.from('PROXY TCP4 192.0.2.1 192.0.2.2 40000 25\r\n'), Buffer.from('EHLO x\r\n')]);
  const step = new ProxyHeaderReader().push(chunk);
  assert.equal(step.state, 'done');
  const { rest } = step as Extract<ReaderStep, { state: 'done' }>;
  assert.equal(rest.buffer, chunk.buffer);
  assert.equal(rest.toString(), 'EHLO x\r\n');
});

test('after the decision: later chunks are client data (done) or the same refusal (malformed)', () => {
  const reader = new ProxyHeaderReader();
  assert.equal(reader.push(Buffer.from('PROXY UNKNOWN\r\n')).state, 'done');
  const later = reader.push(Buffer.from('QUIT\r\n'));
  assert.equal(later.state, 'done');
  assert.equal((later as Extract<ReaderStep, { state: 'done' }>).rest.toString(), 'QUIT\r\n');
  const bad = new ProxyHeaderReader();
  const first = bad.push(Buffer.from('HELO'));
  assert.deepEqual(bad.push(Buffer.from('PROXY UNKNOWN\r\n')), first);
});

test('empty chunks change nothing', () => {
  const reader = new ProxyHeaderReader();
  assert.equal(reader.push(Buffer.alloc(0)).state, 'incomplete');
  assert.equal(reader.push(Buffer.from('PROXY ')).state, 'incomplete');
  assert.equal(reader.push(Buffer.alloc(0)).state, 'incomplete');
  assert.equal(reader.push(Buffer.from('UNKNOWN\r\n')).state, 'done');
});

test('v1 UNKNOWN: anything up to CRLF, no addresses; a bare CR or LF inside is refused', () => {
  const step = v1('PROXY UNKNOWN 999.1.1.1 whatever 99999 -1\r\n');
  assert.equal(step.state, 'done');
  const h = (step as Extract<ReaderStep, { state: 'done' }>).header;
  assert.deepEqual([h.version, h.command, h.family, h.source, h.destination], [1, 'PROXY', 'UNKNOWN', undefined, undefined]);
  assert.equal(v1('PROXY UNKNOWN a\rb\r\n').state, 'malformed');
  assert.equal(v1('PROXY UNKNOWN a\nb\r\n').state, 'malformed');
  assert.equal(v1('PROXY UNKNOWNX\r\n').state, 'malformed');
});

test('v1 TCP6 addresses come out canonical (RFC 5952; IPv4-mapped as IPv4)', () => {
  const cases: [string, string][] = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0000:0000:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['1:0:0:0:1:0:0:1', '1::1:0:0:1'],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::', '::'],
    ['::1', '::1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['0:0:0:0:0:FFFF:C000:0201', '192.0.2.1'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
    ['fe80::1:2', 'fe80::1:2'],
  ];
  for (const [text, canonical] of cases) {
    const step = v1(`PROXY TCP6 ${text} ::2 1 2\r\n`);
    assert.equal(step.state, 'done', `${text}: ${step.state === 'malformed' ? step.reason : ''}`);
    const h = (step as Extract<ReaderStep, { state: 'done' }>).header;
    assert.equal(h.source!.address, canonical, text);
    assert.equal(canonicalAddress(text), canonical, `ipaddr.js agrees on ${text}`);
  }
  for (const bad of ['1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', ':1::2', '1::2:', '::1.2.3', '::01.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '12345::', 'g::1']) {
    assert.equal(v1(`PROXY TCP6 ${bad} ::2 1 2\r\n`).state, 'malformed', bad);
  }
});

test('v1 line limit: 107 bytes with CRLF accepted, 108 refused', () => {
  const head = 'PROXY UNKNOWN ';
  assert.equal(v1(head + 'x'.repeat(107 - head.length - 2) + '\r\n').state, 'done');
  assert.equal(v1(head + 'x'.repeat(108 - head.length - 2) + '\r\n').state, 'malformed');
});

test('detectProxyHeader: v1, v2, partial prefixes and none', () => {
  assert.equal(detectProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4')), 'v1');
  assert.equal(detectProxyHeader(Buffer.from('PROXY ')), 'v1');
  assert.equal(detectProxyHeader(Buffer.from('PROX')), 'partial');
  assert.equal(detectProxyHeader(Buffer.from('P')), 'partial');
  assert.equal(detectProxyHeader(Buffer.alloc(0)), 'partial');
  assert.equal(detectProxyHeader(Buffer.from('0d0a0d0a000d0a515549540a', 'hex')), 'v2');
  assert.equal(detectProxyHeader(buildV2()), 'v2');
  assert.equal(detectProxyHeader(Buffer.from('0d0a0d0a00', 'hex')), 'partial');
  assert.equal(detectProxyHeader(Buffer.from('\r\n')), 'partial');
  assert.equal(detectProxyHeader(Buffer.from('\r\nQUIT')), 'none');
  assert.equal(detectProxyHeader(Buffer.from('PROXYjunk')), 'none');
  assert.equal(detectProxyHeader(Buffer.from('EHLO x\r\n')), 'none');
  assert.equal(detectProxyHeader(Buffer.from('PRIVMSG')), 'none');
});

test('PROXY over UNSPEC and UNIX stream: accepted without addresses (the socket\'s are used), TLVs kept', () => {
  const unspec = pushAll([buildV2({ family: 0x00, addresses: Buffer.alloc(0), tlvs: [tlv(0x02, 'mail.example.test')] })]).step;
  assert.equal(unspec.state, 'done');
  const u = (unspec as Extract<ReaderStep, { state: 'done' }>).header;
  assert.deepEqual([u.command, u.family, u.source, u.destination, u.tlvs.authority], ['PROXY', 'UNSPEC', undefined, undefined, 'mail.example.test']);
  const unix = pushAll([buildV2({ family: 0x31, addresses: Buffer.alloc(216) })]).step;
  assert.equal(unix.state, 'done');
  const x = (unix as Extract<ReaderStep, { state: 'done' }>).header;
  assert.deepEqual([x.command, x.family, x.source], ['PROXY', 'UNIX', undefined]);
  // UDP and UNIX datagram name a transport a stream listener does not serve.
  for (const family of [0x12, 0x22, 0x32]) {
    assert.match(reason(pushAll([buildV2({ family, addresses: Buffer.alloc(216) })]).step), /^v2: PROXY command with address family\/transport byte 0x[0-9a-f]{2} .* is refused/);
  }
});
