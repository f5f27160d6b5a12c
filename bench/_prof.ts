import { parseV1 } from '../packages/listener/src/proxy-protocol/v1.ts';
import { checkV2Prefix, parseV2 } from '../packages/listener/src/proxy-protocol/v2.ts';
import { ProxyHeaderReader } from '../packages/listener/src/proxy-protocol/index.ts';
import { crc32c } from '../packages/listener/src/proxy-protocol/crc32c.ts';
const V1 = Buffer.from('PROXY TCP4 198.51.100.23 203.0.113.5 41000 25\r\n');
const V2 = Buffer.from('0d0a0d0a000d0a515549540a2111000cc6336417cb007105a0280019', 'hex');
function time(name: string, f: () => unknown) {
  for (let i = 0; i < 200000; i++) f();
  const n = 2_000_000; const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  console.log(name, (Number(process.hrtime.bigint() - t) / n).toFixed(1), 'ns');
}
time('parseV1', () => parseV1(V1, V1.length));
time('reader v1', () => new ProxyHeaderReader().push(V1));
time('parseV2 plain', () => parseV2(V2, 28));
time('reader v2 plain', () => new ProxyHeaderReader().push(V2));
time('subarray', () => V1.subarray(10));
time('fromCharCode spread', () => String.fromCharCode(...V1.subarray(11, 24)));
time('latin1 toString', () => V1.toString('latin1', 11, 24));
time('latin1Slice', () => (V1 as any).latin1Slice(11, 24));
time('crc 173', () => crc32c(V1, 0, 47));
time('Buffer.from copy 46', () => Buffer.from(V1.subarray(0, 46)));
time('Buffer.copyBytesFrom 46', () => Buffer.copyBytesFrom(V1, 0, 46));
time('Uint8Array slice', () => Buffer.prototype.slice.call(V1, 0, 46));
time('latin1 toString 22', () => V1.toString('latin1', 0, 22));
const td = new TextDecoder('latin1');
time('TextDecoder latin1 22', () => td.decode(V1.subarray(0, 22)));
import { formatIPv4 } from '../packages/listener/src/proxy-protocol/address.ts';
time('formatIPv4', () => formatIPv4(0xc6336417));
