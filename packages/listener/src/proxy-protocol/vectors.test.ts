// Every receiver vector of packages/listener/test-vectors/vectors.json, whole, one byte at a time, split in
// two, and followed by client bytes. The vectors come from pires/go-proxyproto, haproxy (spec text and
// reg-tests), postfix, AWS elastic-load-balancing-tools and HAProxy 2.6 captures, as each one cites.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalAddress } from '@portico/core';
import { bytewise, loadVectors, pushAll } from './testing.ts';
import type { Vector } from './testing.ts';
import type { ProxyHeader, ReaderStep } from './types.ts';

const vectors = loadVectors();
const AFTER = Buffer.from('EHLO x\r\n');

test('the vector file holds 236 vectors', () => {
  assert.equal(vectors.length, 236);
  assert.equal(new Set(vectors.map((v) => v.id)).size, 236);
});

function label(v: Vector): string {
  return `${v.id} (${v.expect}${v.latitude ? ', latitude' : ''})`;
}

/** The vectors spell families as go-proxyproto does. */
function expectedFamily(family: string): string {
  return family === 'UNIX_STREAM' || family === 'UNIX_DGRAM' ? 'UNIX' : family;
}

function checkAccepted(v: Vector, header: ProxyHeader): void {
  const e = v.expected!;
  assert.equal(header.length, v.header_len, 'bytes consumed');
  assert.equal(header.version, v.header_hex.startsWith('0d0a0d0a') ? 2 : 1);
  assert.equal(header.family, expectedFamily(e.family));
  if (header.version === 1 && header.family === 'UNKNOWN') {
    // v1 has no command: the vectors write go-proxyproto's LOCAL for "use the socket's addresses";
    // we report PROXY UNKNOWN without addresses, which means the same to the listener.
    assert.equal(e.command, 'LOCAL');
    assert.equal(header.command, 'PROXY');
  } else {
    assert.equal(header.command, e.command);
  }
  if (e.use_real_addresses) {
    assert.equal(header.source, undefined);
    assert.equal(header.destination, undefined);
    return;
  }
  // ::ffff:a.b.c.d in a vector is a.b.c.d in canonical form.
  assert.deepEqual(header.source, { address: canonicalAddress(e.src_ip!), port: e.src_port });
  assert.deepEqual(header.destination, { address: canonicalAddress(e.dst_ip!), port: e.dst_port });
}

function assertMalformed(step: ReaderStep, what: string): asserts step is Extract<ReaderStep, { state: 'malformed' }> {
  assert.equal(step.state, 'malformed', `${what}: expected malformed, got ${step.state}`);
  assert.ok(step.reason.length > 0);
  assert.ok(Number.isInteger(step.offset) && step.offset >= 0);
}

/** Whole, our verdict; for latitude vectors either verdict passes but a 'done' must still be right. */
function judge(v: Vector, step: ReaderStep, rest: Buffer, extra: Buffer): void {
  if (v.expect === 'accept') {
    if (v.latitude && step.state !== 'done') {
      assert.notEqual(step.state, 'incomplete', 'a complete header must be decided');
      return;
    }
    assert.equal(step.state, 'done', step.state === 'malformed' ? step.reason : 'incomplete');
    if (step.state === 'done') checkAccepted(v, step.header);
    assert.deepEqual(rest, extra);
    return;
  }
  if (v.latitude && step.state === 'done') return;
  if (!v.send_after) {
    // A truncated header: never accepted; the reader waits (a listener's timeout ends it) or refuses.
    assert.notEqual(step.state, 'done');
    return;
  }
  if (extra.length > 0) assertMalformed(step, 'with client bytes after it');
  else assert.notEqual(step.state, 'done');
}

for (const v of vectors) {
  const header = Buffer.from(v.header_hex, 'hex');

  test(`${label(v)}: whole`, () => {
    const { step, rest } = pushAll([header]);
    judge(v, step, rest, Buffer.alloc(0));
    if (v.expect === 'reject' && v.send_after && !v.latitude && step.state !== 'malformed') {
      // Only a line ending in a lone CR can still wait for its LF.
      assert.equal(step.state, 'incomplete');
      assert.equal(header[header.length - 1], 0x0d);
    }
  });

  test(`${label(v)}: one byte at a time`, () => {
    const whole = pushAll([header]);
    const { step, rest, decidedAt } = pushAll(bytewise(header));
    judge(v, step, rest, Buffer.alloc(0));
    assert.equal(step.state, whole.step.state, 'same verdict as whole');
    if (step.state === 'done' && whole.step.state === 'done') {
      assert.equal(decidedAt, header.length - 1, 'done exactly at the last header byte');
      assert.deepEqual(step.header, whole.step.header);
    }
  });

  if (v.send_after) {
    test(`${label(v)}: followed by client bytes in the same chunk`, () => {
      const { step, rest } = pushAll([Buffer.concat([header, AFTER])]);
      judge(v, step, rest, AFTER);
      if (step.state === 'done') assert.ok(rest.equals(AFTER), `rest is exactly the client bytes, got ${rest.toString('hex')}`);
    });

    test(`${label(v)}: split in two, client bytes in the second chunk`, () => {
      const whole = pushAll([Buffer.concat([header, AFTER])]);
      const input = Buffer.concat([header, AFTER]);
      const cuts = input.length <= 320 ? Array.from({ length: input.length + 1 }, (_, i) => i) : [0, 1, 12, 13, 15, 16, 17, 27, 28, 29, 107, 108, header.length - 1, header.length, header.length + 1, input.length];
      for (const cut of cuts) {
        const { step, rest } = pushAll([input.subarray(0, cut), input.subarray(cut)]);
        judge(v, step, rest, AFTER);
        assert.equal(step.state, whole.step.state, `cut at ${cut}`);
        if (step.state === 'done') assert.ok(rest.equals(AFTER), `cut at ${cut}: rest ${rest.toString('hex')}`);
      }
    });
  }
}
