import { parseV1 } from '../packages/listener/src/proxy-protocol/v1.ts';
const V1 = Buffer.from('PROXY TCP4 198.51.100.23 203.0.113.5 41000 25\r\n');
let s = 0;
for (let i = 0; i < 5_000_000; i++) { const r = parseV1(V1, V1.length); if (r.state === 'done') s += r.header.length; }
console.log(s);
