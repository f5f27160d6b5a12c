import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildV2, pushAll, bytewise, sslTlv, tlv } from './testing.ts';
import type { ProxyHeader, ReaderStep } from './types.ts';

function done(step: ReaderStep): ProxyHeader {
  assert.equal(step.state, 'done', step.state === 'malformed' ? step.reason : 'incomplete');
  return (step as Extract<ReaderStep, { state: 'done' }>).header;
}

function refused(step: ReaderStep, reason: RegExp): void {
  assert.equal(step.state, 'malformed');
  assert.match((step as Extract<ReaderStep, { state: 'malformed' }>).reason, reason);
}

function parse(header: Buffer): ReaderStep {
  const whole = pushAll([header]).step;
  const split = pushAll(bytewise(header)).step;
  assert.equal(split.state, whole.state, 'same verdict one byte at a time');
  if (whole.state === 'done' && split.state === 'done') assert.deepEqual(split.header, whole.header);
  return whole;
}

test('every TLV type at once: ALPN, AUTHORITY, NOOP, UNIQUE_ID, SSL with all sub-TLVs, NETNS, customs, CRC32C', () => {
  const uniqueId = Buffer.from(Array.from({ length: 128 }, (_, i) => i));
  const header = buildV2({
    tlvs: [
      tlv(0x01, 'h2'),
      tlv(0x02, 'mx.example.org'),
      tlv(0x04, Buffer.alloc(7)),
      tlv(0x05, uniqueId),
      sslTlv(0x07, 0, [
        [0x21, 'TLSv1.3'],
        [0x22, 'Example Client CN'],
        [0x23, 'TLS_AES_256_GCM_SHA384'],
        [0x24, 'RSA-SHA256'],
        [0x25, 'RSA2048'],
      ]),
      tlv(0x30, 'blue'),
      tlv(0xea, Buffer.from('\x01vpce-0123456789abcdef0', 'latin1')),
      tlv(0xe0, Buffer.from([1, 2, 3])),
      tlv(0xee, Buffer.from([1, 0xde, 0xad])),
      tlv(0x10, 'unassigned, skipped'),
      tlv(0xf0, 'experimental, skipped'),
    ],
    crc: 'good',
  });
  const h = done(parse(header));
  assert.deepEqual(h.source, { address: '192.0.2.33', port: 43210 });
  assert.deepEqual(h.destination, { address: '192.0.2.25', port: 25 });
  assert.equal(h.tlvs.alpn, 'h2');
  assert.equal(h.tlvs.authority, 'mx.example.org');
  assert.deepEqual(h.tlvs.uniqueId, uniqueId);
  assert.deepEqual(h.tlvs.ssl, {
    client: 0x07,
    verify: 0,
    version: 'TLSv1.3',
    cn: 'Example Client CN',
    cipher: 'TLS_AES_256_GCM_SHA384',
    sigAlg: 'RSA-SHA256',
    keyAlg: 'RSA2048',
  });
  assert.equal(h.tlvs.netns, 'blue');
  assert.equal(h.tlvs.crc32c, header.readUInt32BE(header.length - 4));
  assert.deepEqual(h.tlvs.custom, [
    { type: 0xea, value: Buffer.from('\x01vpce-0123456789abcdef0', 'latin1') },
    { type: 0xe0, value: Buffer.from([1, 2, 3]) },
    { type: 0xee, value: Buffer.from([1, 0xde, 0xad]) },
  ]);
  assert.equal(h.length, header.length);
});

test('TLV values are copies: reusing the input buffer does not change them', () => {
  const header = buildV2({ tlvs: [tlv(0x05, 'abc'), tlv(0xe1, 'xyz')] });
  const h = done(parse(header));
  header.fill(0);
  assert.equal(h.tlvs.uniqueId!.toString(), 'abc');
  assert.equal(h.tlvs.custom[0]!.value.toString(), 'xyz');
});

test('no TLVs: an empty TLV set with an empty custom list', () => {
  assert.deepEqual(done(parse(buildV2())).tlvs, { custom: [] });
});

test('CRC32C valid, alone and after other TLVs, on TCP6 and on LOCAL', () => {
  assert.equal(typeof done(parse(buildV2({ crc: 'good' }))).tlvs.crc32c, 'number');
  assert.equal(done(parse(buildV2({ tlvs: [tlv(0x01, 'smtp')], crc: 'good' }))).tlvs.alpn, 'smtp');
  const v6 = Buffer.concat([Buffer.from('20010db8000000000000000000000001', 'hex'), Buffer.from('20010db8000000000000000000000002', 'hex'), Buffer.from('c35b024b', 'hex')]);
  const h6 = done(parse(buildV2({ family: 0x21, addresses: v6, crc: 'good' })));
  assert.deepEqual([h6.source, h6.destination], [{ address: '2001:db8::1', port: 50011 }, { address: '2001:db8::2', port: 587 }]);
  const local = done(parse(buildV2({ command: 0x20, family: 0x00, addresses: Buffer.alloc(0), crc: 'good' })));
  assert.equal(local.command, 'LOCAL');
  assert.equal(local.source, undefined);
});

test('CRC32C corrupted: refused naming both values, also on LOCAL and when an address byte changed', () => {
  refused(parse(buildV2({ crc: 'bad' })), /^v2: CRC32C mismatch \(header says 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/);
  refused(parse(buildV2({ command: 0x20, family: 0x00, addresses: Buffer.alloc(0), crc: 'bad' })), /CRC32C mismatch/);
  const tampered = buildV2({ tlvs: [tlv(0x02, 'a.example')], crc: 'good' });
  tampered[17]! ^= 0x01;
  refused(parse(tampered), /CRC32C mismatch/);
  refused(parse(buildV2({ tlvs: [tlv(0x03, Buffer.alloc(3))] })), /^v2: CRC32C TLV at offset 28 has length 3, expected 4$/);
  refused(parse(buildV2({ tlvs: [tlv(0x03, Buffer.alloc(4)), tlv(0x03, Buffer.alloc(4))] })), /appears twice/);
});

test('NOOP (empty and with payload) and 0x00 padding are skipped', () => {
  const h = done(parse(buildV2({ tlvs: [tlv(0x04, ''), tlv(0x04, Buffer.alloc(300)), tlv(0x00, '')] })));
  assert.deepEqual(h.tlvs, { custom: [] });
});

test('NETNS is kept as text', () => {
  assert.equal(done(parse(buildV2({ tlvs: [tlv(0x30, 'ns-mail')] }))).tlvs.netns, 'ns-mail');
});

test('long UNIQUE_ID (200 bytes, over the 128 the spec mentions) and long AUTHORITY (300 bytes) are accepted', () => {
  const id = Buffer.alloc(200, 0x41);
  const authority = 'a'.repeat(300);
  const h = done(parse(buildV2({ tlvs: [tlv(0x05, id), tlv(0x02, authority)] })));
  assert.deepEqual(h.tlvs.uniqueId, id);
  assert.equal(h.tlvs.authority, authority);
});

test('AUTHORITY is UTF-8: accepted when valid, refused when not', () => {
  assert.equal(done(parse(buildV2({ tlvs: [tlv(0x02, 'bücher.example')] }))).tlvs.authority, 'bücher.example');
  refused(parse(buildV2({ tlvs: [tlv(0x02, Buffer.from([0x61, 0xff, 0x62]))] })), /^v2: AUTHORITY TLV at offset 28 is not valid UTF-8$/);
});

test('custom 0xEA (AWS VPC endpoint), 0xE0 empty, 0xEF: kept raw in order', () => {
  const aws = Buffer.concat([Buffer.from([0x01]), Buffer.from('vpce-08d2bf15fac5001c9')]);
  const h = done(parse(buildV2({ tlvs: [tlv(0xe0, ''), tlv(0xea, aws), tlv(0xef, 'portico')] })));
  assert.deepEqual(h.tlvs.custom, [
    { type: 0xe0, value: Buffer.alloc(0) },
    { type: 0xea, value: aws },
    { type: 0xef, value: Buffer.from('portico') },
  ]);
});

test('SSL: no TLS (client 0, verify 1), client certificate not verified, unknown sub-TLV skipped', () => {
  assert.deepEqual(done(parse(buildV2({ tlvs: [sslTlv(0, 1, [])] }))).tlvs.ssl, { client: 0, verify: 1 });
  const h = done(parse(buildV2({ tlvs: [sslTlv(0x03, 0x12, [[0x21, 'TLSv1.2'], [0x28, Buffer.from([1, 2, 3])], [0x22, 'Jörg']])] })));
  assert.deepEqual(h.tlvs.ssl, { client: 0x03, verify: 0x12, version: 'TLSv1.2', cn: 'Jörg' });
});

test('SSL refusals: too short, sub-TLV overrun, SSL flag without VERSION, CN not UTF-8, repeated sub-TLV', () => {
  refused(parse(buildV2({ tlvs: [tlv(0x20, Buffer.from([1, 0, 0, 0]))] })), /^v2: SSL TLV at offset 28 has length 4/);
  refused(parse(buildV2({ tlvs: [tlv(0x20, Buffer.from([0, 0, 0, 0, 0, 0x21, 0, 2, 0x54]))] })), /^v2: SSL sub-TLV 0x21 at offset 36 overruns the SSL TLV at offset 28 \(length 2, only 1 byte left\)$/);
  refused(parse(buildV2({ tlvs: [tlv(0x20, Buffer.from([0, 0, 0, 0, 0, 0x21, 0]))] })), /cannot hold a sub-TLV/);
  refused(parse(buildV2({ tlvs: [sslTlv(0x01, 0, [])] })), /client SSL flag \(0x01\) but has no SSL_VERSION/);
  refused(parse(buildV2({ tlvs: [sslTlv(0x01, 0, [[0x21, 'TLSv1.3'], [0x22, Buffer.from([0xff])]])] })), /SSL_CN sub-TLV at offset \d+ is not valid UTF-8/);
  refused(parse(buildV2({ tlvs: [sslTlv(0x01, 0, [[0x21, 'TLSv1.3'], [0x21, 'TLSv1.2']])] })), /SSL sub-TLV 0x21 \(SSL_VERSION\) at offset \d+ appears twice/);
});

test('framing refusals: TLV overrun with its length, trailing bytes too short for a TLV, repeated ALPN', () => {
  const overrun = buildV2({ tlvs: [tlv(0x01, 'h2'), Buffer.from([0x20, 0x00, 0x28, 1, 2, 3])] });
  refused(parse(overrun), /^v2: TLV 0x20 at offset 33 overruns the header \(length 40, only 3 bytes left\)$/);
  refused(parse(buildV2({ tlvs: [Buffer.from([0x04, 0x00])] })), /^v2: 2 trailing bytes at offset 28 cannot hold a TLV/);
  refused(parse(buildV2({ tlvs: [tlv(0x01, 'h2'), tlv(0x01, 'http/1.1')] })), /^v2: TLV 0x01 \(ALPN\) at offset 33 appears twice$/);
});

test('LOCAL: TLVs after a full address block are read; a block shorter than the family\'s is skipped whole', () => {
  const h = done(parse(buildV2({ command: 0x20, tlvs: [tlv(0x01, 'h2')] })));
  assert.deepEqual([h.command, h.family, h.source, h.tlvs.alpn], ['LOCAL', 'TCP4', undefined, 'h2']);
  const short = done(parse(buildV2({ command: 0x20, addresses: Buffer.from([0xff, 0xff, 0xff]) })));
  assert.deepEqual(short.tlvs, { custom: [] });
  refused(parse(buildV2({ command: 0x20, family: 0x00, addresses: Buffer.alloc(0), tlvs: [Buffer.from([0xe0, 0, 9, 1])] })), /overruns the header/);
});
