// PROXY header parsing throughput (headers/second): our ProxyHeaderReader against the npm package
// proxy-protocol-js in the same process, on a v1 TCP4 line and on a v2 TCP4 header carrying ALPN,
// AUTHORITY, UNIQUE_ID, SSL (version, CN, cipher) and CRC32C TLVs. Each header is parsed from a Buffer,
// as it comes off a socket, with a fresh reader per header (one per connection).
// proxy-protocol-js does less work: it neither validates addresses strictly nor decodes TLVs nor checks
// the CRC32C (its v2 result keeps the TLV bytes raw), so the comparison favours it.
// `npx node bench/proxy-parser.bench.ts` or `npm run bench proxy-parser`; about 7 s.
import { V1BinaryProxyProtocol, V1ProxyProtocol, V2ProxyProtocol } from 'proxy-protocol-js';
import { ProxyHeaderReader, crc32c } from '../packages/listener/src/proxy-protocol/index.ts';

const ROUND_MS = 300;
const ROUNDS = 3;

function tlv(type: number, value: Buffer): Buffer {
  const head = Buffer.from([type, 0, 0]);
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, value]);
}

function v2WithTlvs(): Buffer {
  const ssl = Buffer.concat([
    Buffer.from([0x07, 0, 0, 0, 0]),
    tlv(0x21, Buffer.from('TLSv1.3')),
    tlv(0x22, Buffer.from('client.example.org')),
    tlv(0x23, Buffer.from('TLS_AES_256_GCM_SHA384')),
  ]);
  const body = Buffer.concat([
    Buffer.from('c6336417cb007105a0280019', 'hex'), // 198.51.100.23:41000 -> 203.0.113.5:25
    tlv(0x03, Buffer.alloc(4)),
    tlv(0x01, Buffer.from('smtp')),
    tlv(0x02, Buffer.from('mx.portico.test')),
    tlv(0x05, Buffer.from('7F000001:EBA0_7F000001:5EF1_6B03C2A4_0001:3D3C')),
    tlv(0x20, ssl),
  ]);
  const fixed = Buffer.from('0d0a0d0a000d0a515549540a21110000', 'hex');
  fixed.writeUInt16BE(body.length, 14);
  const header = Buffer.concat([fixed, body]);
  header.writeUInt32BE(crc32c(header), 28 + 3); // the CRC32C TLV's value follows the 12-byte address block
  return header;
}

const V1 = Buffer.from('PROXY TCP4 198.51.100.23 203.0.113.5 41000 25\r\n');
const V2 = v2WithTlvs();
const V2_PLAIN = Buffer.from('0d0a0d0a000d0a515549540a2111000cc6336417cb007105a0280019', 'hex'); // no TLVs

let sink = 0;

/** Best of ROUNDS rounds of ROUND_MS each, in headers per second. */
function measure(parse: () => number): number {
  for (let i = 0; i < 20000; i++) sink += parse(); // warm-up
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let count = 0;
    const start = process.hrtime.bigint();
    const stop = start + BigInt(ROUND_MS) * 1_000_000n;
    let now = start;
    while (now < stop) {
      for (let i = 0; i < 2000; i++) sink += parse();
      count += 2000;
      now = process.hrtime.bigint();
    }
    best = Math.max(best, count / (Number(now - start) / 1e9));
  }
  return best;
}

function ours(header: Buffer): () => number {
  return () => {
    const step = new ProxyHeaderReader().push(header);
    if (step.state !== 'done') throw new Error(`not parsed: ${step.state === 'malformed' ? step.reason : step.state}`);
    return step.header.length;
  };
}

interface Row {
  header: string;
  parser: string;
  rate: number;
}

function format(rate: number): string {
  return Math.round(rate).toLocaleString('en-US');
}

export async function run(): Promise<string[]> {
  // Sanity: every parser understands its header before it is timed.
  const check = new ProxyHeaderReader().push(V2);
  if (check.state !== 'done' || check.header.tlvs.ssl?.cn !== 'client.example.org' || check.header.tlvs.crc32c === undefined) {
    throw new Error('our parser did not decode the v2 bench header');
  }
  V1BinaryProxyProtocol.parse(V1);
  V2ProxyProtocol.parse(V2);

  const rows: Row[] = [];
  const add = (header: string, parser: string, parse: () => number) => rows.push({ header, parser, rate: measure(parse) });
  add('v1 TCP4', 'ours: ProxyHeaderReader.push', ours(V1));
  add('v1 TCP4', 'proxy-protocol-js: V1BinaryProxyProtocol.parse', () => V1BinaryProxyProtocol.parse(V1).source.port);
  add('v1 TCP4', 'proxy-protocol-js: V1ProxyProtocol.parse(toString)', () => V1ProxyProtocol.parse(V1.toString('latin1')).source.port);
  add(`v2 TCP4 + TLVs (${V2.length} B)`, 'ours: ProxyHeaderReader.push', ours(V2));
  add(`v2 TCP4 + TLVs (${V2.length} B)`, 'proxy-protocol-js: V2ProxyProtocol.parse (TLVs left raw)', () => V2ProxyProtocol.parse(V2).data?.length ?? 0);
  add('v2 TCP4, no TLVs (28 B)', 'ours: ProxyHeaderReader.push', ours(V2_PLAIN));
  add('v2 TCP4, no TLVs (28 B)', 'proxy-protocol-js: V2ProxyProtocol.parse', () => V2ProxyProtocol.parse(V2_PLAIN).data?.length ?? 0);

  const lines: string[] = [];
  const widthHeader = Math.max(...rows.map((r) => r.header.length), 'header'.length);
  const widthParser = Math.max(...rows.map((r) => r.parser.length), 'parser'.length);
  lines.push(`${'header'.padEnd(widthHeader)}  ${'parser'.padEnd(widthParser)}  ${'headers/s'.padStart(12)}  ours/this`);
  for (const row of rows) {
    const baseline = rows.find((r) => r.header === row.header && r.parser.startsWith('ours'))!;
    const ratio = baseline.rate / row.rate;
    lines.push(`${row.header.padEnd(widthHeader)}  ${row.parser.padEnd(widthParser)}  ${format(row.rate).padStart(12)}  ${ratio.toFixed(2)}x`);
  }
  lines.push(`(node ${process.version}; best of ${ROUNDS} x ${ROUND_MS} ms; a fresh reader per header; checksum ${sink % 997})`);
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await run()) console.log(line);
}
