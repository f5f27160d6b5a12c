/** Helpers shared by the *.test.ts files of this folder (not part of the public API). */
import { readFileSync } from 'node:fs';
import { crc32c } from './crc32c.ts';
import { ProxyHeaderReader } from './reader.ts';
import type { ReaderStep } from './types.ts';

export interface Vector {
  id: string;
  title: string;
  header_hex: string;
  header_len: number;
  expect: 'accept' | 'reject';
  latitude: boolean;
  expected?: {
    command: 'PROXY' | 'LOCAL';
    family: string;
    src_ip?: string;
    src_port?: number;
    dst_ip?: string;
    dst_port?: number;
    use_real_addresses: boolean;
  };
  send_after: boolean;
  sources: { repo: string; file: string; test: string }[];
  notes: string;
}

/**
 * The receiver vectors in packages/listener/test-vectors/vectors.json. They come from pires/go-proxyproto
 * (v1_test.go, v2_test.go, tlvparse/), haproxy (doc/proxy-protocol.txt and reg-tests/connection), postfix
 * (src/global/haproxy_srvr.c and its test), aws/elastic-load-balancing-tools (proprot tests) and headers
 * HAProxy 2.6 sent; each vector cites its source (repository, commit, file, test) in the JSON.
 */
export function loadVectors(): Vector[] {
  const url = new URL('../../test-vectors/vectors.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { vectors: Vector[] }).vectors;
}

/** mulberry32: a small seeded PRNG so fuzz runs are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pushes `chunks` into a fresh reader; returns the last step and, when done, all bytes given back as rest. */
export function pushAll(chunks: Buffer[]): { step: ReaderStep; rest: Buffer; decidedAt: number } {
  const reader = new ProxyHeaderReader();
  let step: ReaderStep = { state: 'incomplete' };
  const rest: Buffer[] = [];
  let decidedAt = -1;
  for (let i = 0; i < chunks.length; i++) {
    step = reader.push(chunks[i]!);
    if (step.state !== 'incomplete' && decidedAt < 0) decidedAt = i;
    if (step.state === 'done') rest.push(step.rest);
  }
  return { step, rest: Buffer.concat(rest), decidedAt };
}

export function bytewise(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) out.push(buf.subarray(i, i + 1));
  return out;
}

export function tlv(type: number, value: Buffer | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(v.length, 1);
  return Buffer.concat([head, v]);
}

export function sslTlv(client: number, verify: number, subs: [number, Buffer | string][]): Buffer {
  const fixed = Buffer.alloc(5);
  fixed[0] = client;
  fixed.writeUInt32BE(verify, 1);
  return tlv(0x20, Buffer.concat([fixed, ...subs.map(([t, v]) => tlv(t, v))]));
}

export interface V2Options {
  command?: 0x20 | 0x21;
  family?: number;
  /** The address block (default: TCP4 192.0.2.33:43210 -> 192.0.2.25:25). */
  addresses?: Buffer;
  tlvs?: Buffer[];
  /** Appends a CRC32C TLV: 'good' with the right value, 'bad' with one bit flipped. */
  crc?: 'good' | 'bad';
}

export const TCP4_BLOCK = Buffer.from('c0000221c0000219a8ca0019', 'hex');

export function buildV2(options: V2Options = {}): Buffer {
  const parts = [...(options.tlvs ?? [])];
  if (options.crc) parts.push(tlv(0x03, Buffer.alloc(4)));
  const body = Buffer.concat([options.addresses ?? TCP4_BLOCK, ...parts]);
  const fixed = Buffer.from('0d0a0d0a000d0a515549540a00000000', 'hex');
  fixed[12] = options.command ?? 0x21;
  fixed[13] = options.family ?? 0x11;
  fixed.writeUInt16BE(body.length, 14);
  const header = Buffer.concat([fixed, body]);
  if (options.crc) {
    const at = header.length - 4;
    header.writeUInt32BE(crc32c(header), at);
    if (options.crc === 'bad') header[at + 3]! ^= 0x01;
  }
  return header;
}
