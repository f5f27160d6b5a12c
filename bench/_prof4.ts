import { parseV1 } from '../packages/listener/src/proxy-protocol/v1.ts';
import { parseIPv4Into, formatIPv4Bytes } from '../packages/listener/src/proxy-protocol/address.ts';
function time(name: string, f: () => unknown) {
  for (let i = 0; i < 300000; i++) f();
  const n = 3_000_000; const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  console.log(name, (Number(process.hrtime.bigint() - t) / n).toFixed(1), 'ns');
}
const U = Buffer.from('PROXY UNKNOWN\r\n');
const V1 = Buffer.from('PROXY TCP4 198.51.100.23 203.0.113.5 41000 25\r\n');
const out = new Uint8Array(8);
time('unknown', () => parseV1(U, U.length));
time('tcp4', () => parseV1(V1, V1.length));
time('ipv4into x2', () => parseIPv4Into(V1, 11, 24, out, 0) && parseIPv4Into(V1, 25, 36, out, 4));
time('format x2', () => formatIPv4Bytes(out, 0).length + formatIPv4Bytes(out, 4).length);
time('alloc objs', () => ({ state: 'done', header: { version: 1, command: 'PROXY', family: 'TCP4', source: { address: 'a', port: 1 }, destination: { address: 'b', port: 2 }, tlvs: { custom: [] }, length: 47 } }));
