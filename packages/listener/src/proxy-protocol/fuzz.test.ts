// Reproducible fuzzing (seeded PRNG): random buffers and mutations of the vectors, pushed whole and in
// random splits. The reader must never throw, must end in done/malformed/incomplete, must reach the same
// verdict however the bytes are split, must give back every byte after the header, and an accepted
// address must be canonical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalAddress } from '@portico/core';
import { formatIPv6 } from './address.ts';
import { V2_SIGNATURE } from './v2.ts';
import { loadVectors, prng, pushAll } from './testing.ts';
import type { ReaderStep } from './types.ts';

const SEED = 0x5eed2024;

function randomSplits(input: Buffer, random: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  while (at < input.length) {
    const size = random() < 0.3 ? 1 : 1 + Math.floor(random() * Math.min(64, input.length - at));
    chunks.push(input.subarray(at, at + size));
    at += size;
  }
  if (random() < 0.1) chunks.splice(Math.floor(random() * (chunks.length + 1)), 0, Buffer.alloc(0));
  return chunks;
}

function check(input: Buffer, random: () => number): ReaderStep['state'] {
  let whole: ReturnType<typeof pushAll>;
  let split: ReturnType<typeof pushAll>;
  try {
    whole = pushAll([input]);
    split = pushAll(randomSplits(input, random));
  } catch (error) {
    assert.fail(`threw on ${input.toString('hex')}: ${String(error)}`);
  }
  const { step } = whole;
  assert.ok(['done', 'malformed', 'incomplete'].includes(step.state));
  assert.equal(split.step.state, step.state, `split verdict differs on ${input.toString('hex')}`);
  if (step.state === 'done') {
    assert.ok(step.header.length > 0 && step.header.length <= input.length);
    assert.ok(whole.rest.equals(input.subarray(step.header.length)), 'rest is what follows the header');
    assert.ok(split.rest.equals(whole.rest), `split rest differs on ${input.toString('hex')}`);
    assert.deepEqual((split.step as typeof step).header, step.header);
    for (const end of [step.header.source, step.header.destination]) {
      if (end) {
        assert.equal(canonicalAddress(end.address), end.address, `non-canonical ${end.address}`);
        assert.ok(Number.isInteger(end.port) && end.port >= 0 && end.port <= 65535);
      }
    }
  } else if (step.state === 'malformed') {
    assert.ok(typeof step.reason === 'string' && step.reason.length > 0);
    assert.ok(Number.isInteger(step.offset) && step.offset >= 0 && step.offset <= input.length, `offset ${step.offset}`);
  }
  return step.state;
}

const V1_PIECES = ['PROXY ', 'TCP4 ', 'TCP6 ', 'UNKNOWN', ' ', '\r\n', '\r', '\n', '1.2.3.4', '255.255.255.255', '::1', '::ffff:1.2.3.4', 'fe80::', '0', '65535', '80', '010', ':', '.'];

test('20000 random buffers, pushed whole and in random splits', () => {
  const random = prng(SEED);
  const seen = new Map<string, number>();
  for (let i = 0; i < 20000; i++) {
    const kind = i % 4;
    let input: Buffer;
    const length = Math.floor(random() * 160);
    const noise = Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
    if (kind === 0) {
      input = noise;
    } else if (kind === 1) {
      input = Buffer.concat([Buffer.from('PROXY '), noise]);
    } else if (kind === 2) {
      // v2 signature, a plausible command/family, a length near the noise length
      const fixed = Buffer.from([...V2_SIGNATURE, random() < 0.5 ? 0x21 : 0x20, [0x00, 0x11, 0x21, 0x12, 0x31][Math.floor(random() * 5)]!, 0, 0]);
      fixed.writeUInt16BE(random() < 0.7 ? Math.max(0, length - Math.floor(random() * 8)) : Math.floor(random() * 65536), 14);
      input = Buffer.concat([fixed, noise]);
    } else {
      let line = '';
      const n = 1 + Math.floor(random() * 12);
      for (let k = 0; k < n; k++) line += V1_PIECES[Math.floor(random() * V1_PIECES.length)]!;
      input = Buffer.from(random() < 0.5 ? 'PROXY ' + line : line, 'latin1');
    }
    const state = check(input, random);
    seen.set(state, (seen.get(state) ?? 0) + 1);
  }
  if (process.env.FUZZ_STATS) console.log(seen);
  assert.ok((seen.get('malformed') ?? 0) > 0 && (seen.get('incomplete') ?? 0) > 0);
});

test('random mutations of every vector (flip, insert, delete, truncate, length tweak), whole and split', () => {
  const random = prng(SEED + 1);
  const vectors = loadVectors().map((v) => Buffer.from(v.header_hex, 'hex'));
  const states = new Map<string, number>();
  for (let i = 0; i < 12000; i++) {
    const base = vectors[i % vectors.length]!;
    if (base.length > 3000 && random() < 0.9) continue; // keep the run short; the big ones still get some
    let input = Buffer.from(base);
    const mutations = 1 + Math.floor(random() * 3);
    for (let m = 0; m < mutations && input.length > 0; m++) {
      const at = Math.floor(random() * input.length);
      const what = random();
      if (what < 0.35) input[at]! ^= 1 << Math.floor(random() * 8);
      else if (what < 0.55) input[at] = Math.floor(random() * 256);
      else if (what < 0.7) input = Buffer.concat([input.subarray(0, at), Buffer.from([Math.floor(random() * 256)]), input.subarray(at)]);
      else if (what < 0.8) input = Buffer.concat([input.subarray(0, at), input.subarray(at + 1)]);
      else if (what < 0.9) input = input.subarray(0, at);
      else if (input.length >= 16 && input[0] === 0x0d) input.writeUInt16BE(Math.max(0, input.readUInt16BE(14) + Math.floor(random() * 9) - 4), 14);
    }
    if (random() < 0.5) input = Buffer.concat([input, Buffer.from('EHLO x\r\n')]);
    const state = check(input, random);
    states.set(state, (states.get(state) ?? 0) + 1);
  }
  if (process.env.FUZZ_STATS) console.log(states);
  assert.ok((states.get('done') ?? 0) > 0 && (states.get('malformed') ?? 0) > 0);
});

test('the IPv6 formatter agrees with ipaddr.js on 20000 random addresses (zero runs favoured)', () => {
  const random = prng(SEED + 2);
  const groups = new Uint16Array(8);
  for (let i = 0; i < 20000; i++) {
    for (let g = 0; g < 8; g++) groups[g] = random() < 0.5 ? 0 : random() < 0.5 ? Math.floor(random() * 16) : Math.floor(random() * 65536);
    if (random() < 0.05) groups.set([0, 0, 0, 0, 0, 0xffff], 0);
    const text = Array.from(groups, (g) => g.toString(16)).join(':');
    assert.equal(formatIPv6(groups), canonicalAddress(text), text);
  }
});
