const DEC = Array.from({ length: 256 }, (_, i) => String(i));
const q = Uint8Array.of(198, 51, 100, 23);
function time(name: string, f: () => unknown) {
  for (let i = 0; i < 200000; i++) f();
  const n = 3_000_000; const t = process.hrtime.bigint();
  let s = 0;
  for (let i = 0; i < n; i++) s += (f() as string).length;
  console.log(name, (Number(process.hrtime.bigint() - t) / n).toFixed(1), 'ns', s);
}
time('template', () => `${q[0]!}.${q[1]!}.${q[2]!}.${q[3]!}`);
time('table concat', () => DEC[q[0]!]! + '.' + DEC[q[1]!]! + '.' + DEC[q[2]!]! + '.' + DEC[q[3]!]!);
time('table template', () => `${DEC[q[0]!]!}.${DEC[q[1]!]!}.${DEC[q[2]!]!}.${DEC[q[3]!]!}`);
const b = Buffer.from('PROXY TCP4 198.51.100.23 203.0.113.5 41000 25\r\n');
time('latin1', () => b.toString('latin1', 11, 24));
time('latin1Slice', () => (b as any).latin1Slice(11, 24));
time('fromCharCode.apply', () => String.fromCharCode.apply(null, b.subarray(11, 24) as unknown as number[]));
