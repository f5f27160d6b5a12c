/** Test helper (not a test file): a tiny authoritative DNS server on UDP for A, AAAA, TXT and PTR records. */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { once } from 'node:events';
import { isIPv4, isIPv6 } from 'node:net';

const TYPES: Readonly<Record<number, string>> = { 1: 'A', 12: 'PTR', 16: 'TXT', 28: 'AAAA' };

export type Zone = Record<string, Partial<Record<'A' | 'AAAA' | 'TXT' | 'PTR', string[]>>>;

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])), Buffer.from([0])]);
}

function rdata(type: string, value: string): Buffer {
  if (type === 'A' && isIPv4(value)) return Buffer.from(value.split('.').map(Number));
  if (type === 'AAAA' && isIPv6(value)) {
    const [head = '', tail = ''] = value.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = value.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
    return out;
  }
  if (type === 'PTR') return encodeName(value);
  // TXT: split into <=255-byte character-strings
  const bytes = Buffer.from(value);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length || i === 0; i += 255) {
    const piece = bytes.subarray(i, i + 255);
    chunks.push(Buffer.from([piece.length]), piece);
  }
  return Buffer.concat(chunks);
}

function answer(query: Buffer, zone: Zone): Buffer | undefined {
  if (query.length < 12) return undefined;
  let offset = 12;
  const labels: string[] = [];
  while (offset < query.length && query[offset] !== 0) {
    const length = query[offset]!;
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('latin1'));
    offset += 1 + length;
  }
  offset += 1;
  if (offset + 4 > query.length) return undefined;
  const qtype = query.readUInt16BE(offset);
  const question = query.subarray(12, offset + 4);
  const name = labels.join('.').toLowerCase();
  const records = zone[name];
  const type = TYPES[qtype];
  const values: string[] = (type ? records?.[type as 'A'] : undefined) ?? [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | (records ? 0 : 3), 2); // QR AA, RD copied, NXDOMAIN
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(values.length, 6);
  const answers = values.map((value) => {
    const data = rdata(type!, value);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(qtype, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(data.length, 10);
    return Buffer.concat([rr, data]);
  });
  return Buffer.concat([header, question, ...answers]);
}

export interface TestDnsServer {
  readonly address: string;
  close(): Promise<void>;
}

export async function startTestDnsServer(zone: Zone): Promise<TestDnsServer> {
  const socket: Socket = createSocket('udp4');
  socket.on('message', (message, remote) => {
    const reply = answer(message, zone);
    if (reply) socket.send(reply, remote.port, remote.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return {
    address: `127.0.0.1:${socket.address().port}`,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
